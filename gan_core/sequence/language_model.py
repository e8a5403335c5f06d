"""An LSTM language model over a fixed-length token sequence: the oracle's and the generator's shape.

SeqGAN's generator, its roll-out policy and the synthetic oracle are all the same network (embedding,
one LSTM layer, a linear layer to vocabulary logits); they differ only in how they are initialised and
trained. The first input is a start token that is not part of the output vocabulary (id `vocab_size`),
so every one of the `vocab_size` ids can appear at every position.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

State = tuple[torch.Tensor, torch.Tensor]

# Rows per sampling chunk: bounds the (rows, vocab) probability table (2,048 × 5,000 floats = 40 MB).
SAMPLE_CHUNK = 2048


class LstmLanguageModel(nn.Module):
    """p(y_1..y_L) = prod_t p(y_t | y_<t) with an LSTM; teacher forcing, stepping and sampling."""

    def __init__(self, vocab_size: int, sequence_length: int, embedding_dim: int, hidden_dim: int) -> None:
        super().__init__()
        self.vocab_size = vocab_size
        self.sequence_length = sequence_length
        self.embedding = nn.Embedding(vocab_size + 1, embedding_dim)  # the last row is the start token
        self.lstm = nn.LSTM(embedding_dim, hidden_dim, batch_first=True)
        self.output = nn.Linear(hidden_dim, vocab_size)

    @property
    def start_token(self) -> int:
        return self.vocab_size

    def reset_normal(self, std: float, generator: torch.Generator | None = None) -> LstmLanguageModel:
        """Every parameter from N(0, std²): std 1 is the paper's oracle, std 0.1 its generator."""
        with torch.no_grad():
            for parameter in self.parameters():
                parameter.copy_(torch.randn(parameter.shape, generator=generator) * std)
        return self

    def _inputs(self, tokens: torch.Tensor) -> torch.Tensor:
        start = torch.full_like(tokens[:, :1], self.start_token)
        return torch.cat([start, tokens[:, :-1]], dim=1)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Logits (n, L, vocab) for every position, each from the tokens before it (teacher forcing)."""
        hidden, _ = self.lstm(self.embedding(self._inputs(tokens)))
        return self.output(hidden)

    def token_log_probs(self, tokens: torch.Tensor) -> torch.Tensor:
        """log p(y_t | y_<t) of each given token, shape (n, L)."""
        log_probs = F.log_softmax(self(tokens).float(), dim=-1)
        return log_probs.gather(-1, tokens.unsqueeze(-1)).squeeze(-1)

    def nll(self, tokens: torch.Tensor) -> torch.Tensor:
        """Per-sequence mean negative log-likelihood per token, shape (n,): the paper's NLL unit."""
        return -self.token_log_probs(tokens).mean(dim=1)

    def step(self, token: torch.Tensor, state: State | None) -> tuple[torch.Tensor, State]:
        """Read one token per row (n,) and return the next position's logits (n, vocab) and the new state."""
        hidden, state = self.lstm(self.embedding(token).unsqueeze(1), state)
        return self.output(hidden.squeeze(1)), state

    def prefix_states(self, tokens: torch.Tensor) -> list[tuple[torch.Tensor, State]]:
        """For t = 0..L-1: (logits for y_{t+1}, LSTM state) after reading the start token and y_1..y_t.

        Roll-outs from a prefix of length t continue from entry t; nn.LSTM over the whole sequence would
        return the hidden states but not the cell states, hence the step-by-step loop (L short steps).
        """
        token = torch.full_like(tokens[:, 0], self.start_token)
        state: State | None = None
        states = []
        for t in range(tokens.shape[1]):
            logits, state = self.step(token, state)
            states.append((logits, state))
            token = tokens[:, t]
        return states

    def continue_from(
        self, prefix: torch.Tensor, logits: torch.Tensor, state: State, temperature: float = 1.0,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Complete `prefix` (n, t) to the full length by sampling, starting from the logits and state after it."""
        pieces = [prefix]
        for position in range(prefix.shape[1], self.sequence_length):
            token = sample_tokens(logits, temperature, generator)
            pieces.append(token.unsqueeze(1))
            if position + 1 < self.sequence_length:
                logits, state = self.step(token, state)
        return torch.cat(pieces, dim=1)

    @torch.no_grad()
    def sample(self, n: int, temperature: float = 1.0, generator: torch.Generator | None = None) -> torch.Tensor:
        """n full sequences (n, L) sampled token by token; with `generator` the draw depends on it alone."""
        device = self.output.weight.device
        chunks = []
        for start in range(0, n, SAMPLE_CHUNK):
            rows = min(SAMPLE_CHUNK, n - start)
            first = torch.full((rows,), self.start_token, dtype=torch.long, device=device)
            logits, state = self.step(first, None)
            chunks.append(self.continue_from(first[:, None][:, :0], logits, state, temperature, generator))
        return torch.cat(chunks, dim=0)


def sample_tokens(logits: torch.Tensor, temperature: float = 1.0, generator: torch.Generator | None = None) -> torch.Tensor:
    """One token per row from softmax(logits / temperature); temperature 0 means the most likely token.

    Inverse-CDF sampling (one uniform per row, a cumulative sum and a binary search): on one CPU core it is
    about 5x faster than torch.multinomial over 5,000 ids, and sampling is most of a roll-out's cost.
    """
    if temperature <= 0:
        return logits.argmax(dim=-1)
    cumulative = F.softmax(logits.float() / temperature, dim=-1).cumsum_(dim=-1)
    uniform = torch.rand(logits.shape[0], 1, device=logits.device, generator=generator) * cumulative[:, -1:]
    token = torch.searchsorted(cumulative, uniform, right=True).squeeze(1)
    return token.clamp_(max=logits.shape[-1] - 1)
