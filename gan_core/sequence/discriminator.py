"""SeqGAN's discriminator: a CNN text classifier over token embeddings (Kim 2014, as the paper uses it).

Each filter width looks at n-grams of that many tokens; max-pooling over time keeps each filter's best
match wherever it is, a highway layer mixes the pooled features, dropout regularises, and one logit says
"real". The paper's code uses a two-class softmax; a single logit with a sigmoid is the same model.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class Highway(nn.Module):
    """y = t * relu(W x) + (1 - t) * x with t = sigmoid(W_t x + gate_bias): lets D pass features through."""

    def __init__(self, size: int, layers: int, gate_bias: float = 0.0) -> None:
        super().__init__()
        self.transforms = nn.ModuleList(nn.Linear(size, size) for _ in range(layers))
        self.gates = nn.ModuleList(nn.Linear(size, size) for _ in range(layers))
        for gate in self.gates:
            nn.init.constant_(gate.bias, gate_bias)  # the reference code calls highway(..., bias=0)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        for transform, gate in zip(self.transforms, self.gates):
            carry = torch.sigmoid(gate(features))
            features = carry * F.relu(transform(features)) + (1.0 - carry) * features
        return features


class CnnDiscriminator(nn.Module):
    """Token ids (n, L) → one "real" logit per row, for any L ≥ 1.

    Rows shorter than the widest filter are padded on the right with a padding id (the embedding's last row)
    so every filter has at least one position to look at; the padding is the same for real and generated
    rows, so it carries no information about which is which.
    """

    def __init__(
        self, vocab_size: int, embedding_dim: int, filter_widths: tuple[int, ...], filter_counts: tuple[int, ...],
        highway_layers: int = 1, dropout: float = 0.25,
    ) -> None:
        super().__init__()
        if len(filter_widths) != len(filter_counts) or not filter_widths:
            raise ValueError("filter_widths and filter_counts need the same, non-zero length")
        self.padding_token = vocab_size
        self.widest = max(filter_widths)
        self.embedding = nn.Embedding(vocab_size + 1, embedding_dim)
        self.convolutions = nn.ModuleList(nn.Conv1d(embedding_dim, count, width) for width, count in zip(filter_widths, filter_counts))
        features = sum(filter_counts)
        self.highway = Highway(features, highway_layers)
        self.dropout = nn.Dropout(dropout)
        self.output = nn.Linear(features, 1)
        self._paper_init()

    def _paper_init(self) -> None:
        """The reference code's initialisation: uniform(-1, 1) embeddings, truncated N(0, 0.1) filters, biases 0.1."""
        with torch.no_grad():
            nn.init.uniform_(self.embedding.weight, -1.0, 1.0)
            for layer in [*self.convolutions, self.output]:
                nn.init.trunc_normal_(layer.weight, std=0.1, a=-0.2, b=0.2)
                nn.init.constant_(layer.bias, 0.1)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        if tokens.shape[1] < self.widest:
            tokens = F.pad(tokens, (0, self.widest - tokens.shape[1]), value=self.padding_token)
        embedded = self.embedding(tokens).transpose(1, 2)  # (n, embedding, L)
        pooled = torch.cat([F.relu(conv(embedded)).amax(dim=2) for conv in self.convolutions], dim=1)
        return self.output(self.dropout(self.highway(pooled))).squeeze(1)

    def output_l2(self) -> torch.Tensor:
        """The paper's L2 term: tf.nn.l2_loss (half the squared norm) of the output layer's weight and bias."""
        return 0.5 * (self.output.weight.square().sum() + self.output.bias.square().sum())

    @torch.no_grad()
    def real_probability(self, tokens: torch.Tensor, chunk: int = 4096) -> torch.Tensor:
        """D's probability that each row is real, in eval mode (no dropout): the roll-out reward."""
        was_training = self.training
        self.eval()
        scores = torch.cat([torch.sigmoid(self(part)) for part in tokens.split(chunk)])
        self.train(was_training)
        return scores
