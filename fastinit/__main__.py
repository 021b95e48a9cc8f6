import sys

from fastinit.cli import main

sys.exit(main())
