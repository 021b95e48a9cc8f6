"""Helpers for the PyTorch parity tests: the same MLP in torch, with fastinit's weights."""
import numpy as np

TORCH_ACTS = {
    "identity": lambda nn: nn.Identity(), "relu": lambda nn: nn.ReLU(),
    "leaky_relu": lambda nn, p: nn.LeakyReLU(p), "elu": lambda nn, p: nn.ELU(p),
    "selu": lambda nn: nn.SELU(), "tanh": lambda nn: nn.Tanh(), "sigmoid": lambda nn: nn.Sigmoid(),
    "gelu": lambda nn: nn.GELU(), "gelu_tanh": lambda nn: nn.GELU(approximate="tanh"),
    "softplus": lambda nn: nn.Softplus(), "softsign": lambda nn: nn.Softsign(),
    "silu": lambda nn: nn.SiLU(),
}


def torch_copy(torch, model):
    """nn.Sequential with model's layers, activations and current weights (its dtype)."""
    nn = torch.nn
    mods = []
    dt = torch.float64 if model.dtype == np.float64 else torch.float32
    for layer in model.layers:
        lin = nn.Linear(layer.fan_in, layer.fan_out, dtype=dt)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(layer.W.copy()))
            lin.bias.copy_(torch.from_numpy(layer.b.copy()))
        mods.append(lin)
        if layer is not model.layers[-1]:
            make = TORCH_ACTS[layer.activation]
            mods.append(make(nn, layer.act_param) if make.__code__.co_argcount == 2 else make(nn))
    return nn.Sequential(*mods)


def torch_loss(torch, model):
    return {"softmax": torch.nn.CrossEntropyLoss(), "sigmoid": torch.nn.BCEWithLogitsLoss(),
            "identity": torch.nn.MSELoss()}[model.output]


def torch_target(torch, model, y):
    if model.output == "softmax":
        return torch.from_numpy(np.asarray(y, dtype=np.int64))
    y = np.asarray(y, dtype=model.dtype)
    return torch.from_numpy(y.reshape(len(y), -1))


def linears(seq):
    return [m for m in seq if hasattr(m, "weight")]
