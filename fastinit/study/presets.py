"""Studies that reproduce published findings (`fastinit compare --preset NAME`); docs/presets.md
records what each measures beside the paper's claim."""

__all__ = ["PRESETS"]

PRESETS = {
    "course": dict(  # deeplearning.ai "Initialization" notebook: zeros vs random*10 vs He
        dataset="circles", sizes=[2, 10, 5, 1], activation="relu", output="sigmoid", optimizer="sgd", lr=0.01,
        batch_size=None, steps=15000, inits=["zeros", "random_large", "he_normal"], seeds=[1], target=0.9,
        eval_every=500),
    "deep-relu": dict(  # He et al. 2015's deep-ReLU argument on an MLP: He trains, Xavier stalls
        dataset="spirals", depth=30, width=64, activation="relu", optimizer="sgd", lr=0.01, batch_size=64,
        steps=1500, inits=["he_normal", "xavier_normal", "torch_default"], seeds=2, target=0.8, eval_every=50),
    "glorot2010": dict(  # Glorot & Bengio 2010: U(+-1/sqrt(n)) vs normalized init, tanh and sigmoid
        dataset="digits", depth=5, width=100, activation=["tanh", "sigmoid"], optimizer="sgd", lr=0.1,
        batch_size=32, steps=1500, inits=["torch_default", "xavier_uniform"], seeds=2, target=0.9, eval_every=50),
    "linear-depth": dict(  # 10 linear layers of width 2: W = 1.5 I explodes, 0.5 I vanishes
        dataset="blobs", dataset_params={"classes": 2, "features": 2}, depth=10, width=2, activation="identity",
        optimizer="sgd", lr=0.01, batch_size=None, steps=300, inits=["identity:gain=1.5", "identity:gain=0.5",
                                                                     "identity"], seeds=[0], target=0.9, eval_every=10),
    "mnist1d": dict(  # Greydanus 2020: the MLP reaches ~65% test accuracy
        dataset="mnist1d", sizes=[100, 100], activation="relu", optimizer="adam", lr=0.01, batch_size=100,
        steps=6000, inits=["he_normal", "xavier_normal", "zeros"], seeds=2, target=0.6, eval_every=200),
    "lsuv": dict(  # Mishkin & Matas 2015: LSUV and orthogonal against He and Xavier, deep tanh
        dataset="spirals", depth=12, width=64, activation="tanh", optimizer="sgd", lr=0.05, batch_size=64,
        steps=1500, inits=["lsuv", "orthogonal", "he_normal", "xavier_normal"], seeds=2, target=0.8, eval_every=50),
}
