import sys

from fastinit.study.cli import main

sys.exit(main())
