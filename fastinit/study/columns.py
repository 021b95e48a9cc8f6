"""What the study's table shows: its measured columns and the verdict words, each with what it
means (the table, the report, the notebook view and the CLI read them here)."""
from fastinit import diagnostics

__all__ = ["COLUMNS", "VERDICTS"]

#: The table's measured columns: key -> (header, what it is).
COLUMNS = {
    "symmetry_broken": ("sym. broken", "every hidden layer has more than one distinct neuron at "
                        "initialization (rows of W and b not all equal)"),
    "gradient_ratio": ("grad ratio", "at initialization, the rms gradient of the loss with respect to "
                       "the first layer's input over the last layer's: below 1e-2 vanishing, above 1e2 "
                       "exploding"),
    "growth": ("growth/layer", "at initialization, the geometric growth per layer of the activations' rms (first "
               "layer's output to the logits) / of the input gradients' rms (last layer's to the first's): above "
               f"{1 + diagnostics.GROWTH_TOL:g} exploding, below 1/{1 + diagnostics.GROWTH_TOL:g} vanishing"),
    "saturated": ("saturated", "at initialization, the largest fraction of a tanh/sigmoid layer's "
                  "outputs in the flat tails (tanh |a| > 0.99, sigmoid < 0.01 or > 0.99)"),
    "saturated_train": ("sat. in training", "the largest fraction of a tanh/sigmoid layer's outputs in the flat "
                        "tails at any check during training (every eval_every steps; Glorot & Bengio's Figure 2)"),
    "dead": ("dead", "at initialization, the largest fraction of a ReLU layer's units that are zero "
             "on the whole batch"),
    "reached": ("reached", "seeds that reached the target"),
    "steps_to_target": ("steps to target", "median training steps to the target's first evaluation "
                        "meeting it, if every seed reached it"),
    "seconds_to_target": ("s to target", "median training seconds to the target (evaluation not "
                          "counted; in an ensemble, the run's own steps in C), if every seed reached it"),
    "test_acc": ("test acc", "median test accuracy at the end"),
    "verdict": ("verdict", "one word for the init, from the measurements (see the verdicts)"),
}


#: Every verdict _verdict gives, and what it means (the report prints these).
VERDICTS = {
    "symmetric": "some hidden layer starts with all its neurons alike (zeros, constant): they get "
                 "the same gradient and stay alike, so the layer acts as one unit",
    "diverged": "the loss or a weight became NaN or inf, or the loss a million times the first, in some run",
    "exploded": "no run reached the target (or none was set) and the loss rose above 100 times its first value",
    "vanishing": "at initialization the activations or the gradients shrink per layer faster than "
                 f"1/{1 + diagnostics.GROWTH_TOL:g} (median over seeds; the growth column), whether or not it "
                 f"trained; in nets of fewer than {diagnostics.GROWTH_MIN_STEPS + 1} layers, where a rate is noise, "
                 "no run reached the target and the gradient reaching the first layer was below 1/100 of the last's",
    "exploding": "at initialization the activations or the gradients grow per layer faster than "
                 f"{1 + diagnostics.GROWTH_TOL:g} (median over seeds; the growth column), whether or not it "
                 f"trained; in nets of fewer than {diagnostics.GROWTH_MIN_STEPS + 1} layers, no run reached the "
                 "target and the gradient reaching the first layer was above 100 times the last's",
    "dead units": "no run reached the target (or none was set) and at the end half or more of some layer's ReLUs were "
                  "zero on the whole batch (median over seeds)",
    "saturated": "no run reached the target (or none was set) and, at initialization or at the end, more than half "
                 "of some layer's tanh/sigmoid outputs were saturated (median over seeds)",
    "slow": "no run reached the target, with none of the causes above seen",
    "unreliable": "some seeds reached the target, others did not",
    "trains": "every seed reached the target",
    "fastest": "every seed reached the target, in the fewest steps (median) of the study",
}
