"""A plain-NumPy MLP training step, the peer fastinit's training step is timed and checked against.

Written the way course notebooks write it: explicit forward and backward with `@`, softmax
cross-entropy, plain SGD; nothing fused, nothing preallocated, no tricks either way. Weights are
(fan_out, fan_in) like fastinit's and torch's; the arithmetic runs in the weights' dtype.
"""
import numpy as np

#: activation name -> (f(z), backward(a, g) = g * f'(z) written with a = f(z))
ACTIVATIONS = {
    "relu": (lambda z: np.maximum(z, 0), lambda a, g: g * (a > 0)),
    "tanh": (np.tanh, lambda a, g: g * (1 - a * a)),
}


class NumpyMLP:
    """Dense layers act(x @ W.T + b), a linear last layer, softmax cross-entropy, SGD."""

    def __init__(self, weights, biases, activation="relu"):
        self.W = [np.array(W) for W in weights]
        self.b = [np.array(b) for b in biases]
        self.act, self.act_backward = ACTIVATIONS[activation]

    def step(self, X, y, lr):
        """One SGD step on the batch (X, y int labels); returns the loss before the update."""
        n = X.shape[0]
        # forward, keeping every layer's output for the backward pass
        outs = [X]
        for W, b in zip(self.W[:-1], self.b[:-1]):
            outs.append(self.act(outs[-1] @ W.T + b))
        z = outs[-1] @ self.W[-1].T + self.b[-1]
        # softmax cross-entropy (shifted by the row max so exp cannot overflow)
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        s = e.sum(axis=1, keepdims=True)
        rows = np.arange(n)
        loss = float(np.mean(np.log(s[:, 0]) - z[rows, y]))
        g = e / s
        g[rows, y] -= 1
        g /= n
        # backward and update, last layer first
        for i in range(len(self.W) - 1, -1, -1):
            dW = g.T @ outs[i]
            db = g.sum(axis=0)
            if i > 0:
                g = self.act_backward(outs[i], g @ self.W[i])
            self.W[i] -= lr * dW
            self.b[i] -= lr * db
        return loss
