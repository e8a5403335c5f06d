"""StackGAN's networks (Zhang et al. 2017), sized for 32×32 digits: text encoder, conditioning augmentation, the
two generator stages and their matching-aware discriminators.

- `TextEncoder`: the mean of word embeddings (unknown words and padding left out) through a small MLP gives the
  sentence embedding φ_t; heads on it predict the caption's digit and attribute words, which is how it is trained
  before it is frozen (the paper takes φ_t from a pre-trained char-CNN-RNN).
- `ConditioningAugmentation`: μ(φ_t) and log σ²(φ_t), a condition ĉ = μ + σ ⊙ ε with ε ~ N(0, I), and the KL term
  D_KL(N(μ, σ²) ‖ N(0, I)) that keeps the conditioning manifold smooth.
- `StageOneGenerator`: (z, ĉ₀) → a low-resolution image (half the final side), upsampling from 4×4.
- `StageTwoGenerator`: Stage-I's image, downsampled by a strided convolution, joined with ĉ (from Stage-II's own
  conditioning augmentation) as constant planes, through residual blocks, then upsampled to the final side.
- `StageDiscriminator`: image features down to 4×4, joined with a compression of φ_t as planes; one logit for
  "a real image that fits this caption".
- `StackGenerator`: everything that samples, in one module so one checkpoint holds the encoder too. Its input is
  one flat latent [z, ε₀, ε₁]; with token ids the conditions are μ + σ ⊙ ε per stage, without them ε itself (a draw
  from the prior the KL term pulls the conditions towards), so the generic sampling path works unchanged.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gan_core.text.reading import PAD, UNKNOWN

ATTRIBUTE_CLASSES = 4
"""Per attribute: its three bins and "not said"."""
STAGE_NAMES = ("Stage-I", "Stage-II")


class TextEncoder(nn.Module):
    """Token ids (N, L) → sentence embedding (N, embedding_dim) in [-1, 1], and heads reading it back."""

    def __init__(self, vocabulary_size: int, embedding_dim: int, attributes: int = 3) -> None:
        super().__init__()
        self.embedding_dim = embedding_dim
        self.words = nn.Embedding(vocabulary_size, embedding_dim, padding_idx=PAD)
        self.body = nn.Sequential(nn.Linear(embedding_dim, 2 * embedding_dim), nn.ReLU(True),
                                  nn.Linear(2 * embedding_dim, embedding_dim), nn.Tanh())
        self.digit_head = nn.Linear(embedding_dim, 10)
        self.attribute_heads = nn.ModuleList(nn.Linear(embedding_dim, ATTRIBUTE_CLASSES) for _ in range(attributes))

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        known = ((tokens != PAD) & (tokens != UNKNOWN)).unsqueeze(-1).to(self.words.weight.dtype)
        total = (self.words(tokens) * known).sum(1)
        return self.body(total / known.sum(1).clamp_min(1.0))

    def read(self, embedding: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Digit logits (N, 10) and, per attribute, logits over (its bins..., not said)."""
        return self.digit_head(embedding), [head(embedding) for head in self.attribute_heads]


class ConditioningAugmentation(nn.Module):
    """φ_t → (μ, log σ²); the sampled condition and the KL term are functions of them."""

    def __init__(self, embedding_dim: int, condition_dim: int) -> None:
        super().__init__()
        self.condition_dim = condition_dim
        self.project = nn.Linear(embedding_dim, 2 * condition_dim)

    def forward(self, embedding: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, log_variance = self.project(embedding).chunk(2, dim=1)
        return mu, log_variance


def sample_condition(mu: torch.Tensor, log_variance: torch.Tensor, epsilon: torch.Tensor) -> torch.Tensor:
    """The reparameterised condition ĉ = μ + σ ⊙ ε."""
    return mu + torch.exp(0.5 * log_variance) * epsilon


def kl_to_standard_normal(mu: torch.Tensor, log_variance: torch.Tensor) -> torch.Tensor:
    """D_KL(N(μ, σ²) ‖ N(0, I)) summed over dimensions, averaged over the batch: 0 exactly when μ = 0 and σ = 1."""
    return 0.5 * (mu.square() + log_variance.exp() - 1 - log_variance).sum(1).mean()


def _up(in_channels: int, out_channels: int) -> nn.Sequential:
    """Nearest-neighbour ×2 then a 3×3 convolution (the StackGAN reference's upBlock)."""
    return nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(in_channels, out_channels, 3, 1, 1, bias=False),
                         nn.BatchNorm2d(out_channels), nn.ReLU(True))


class ResidualBlock(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(channels, channels, 3, 1, 1, bias=False), nn.BatchNorm2d(channels), nn.ReLU(True),
                                  nn.Conv2d(channels, channels, 3, 1, 1, bias=False), nn.BatchNorm2d(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(x + self.body(x))


def _upsamplings(side: int) -> int:
    """How many doublings take 4×4 to `side` (a power of two of at least 8)."""
    return side.bit_length() - 3


class StageOneGenerator(nn.Module):
    """(z ⊕ ĉ) → 4×4 features → doubled to `side`×`side` → a Tanh image."""

    def __init__(self, input_dim: int, channels: int, side: int, width: int) -> None:
        super().__init__()
        steps = _upsamplings(side)
        top = width * 2 ** steps
        self.start = nn.Sequential(nn.Linear(input_dim, top * 16, bias=False), nn.BatchNorm1d(top * 16), nn.ReLU(True))
        self.top = top
        self.body = nn.Sequential(*[_up(top // 2**i, top // 2 ** (i + 1)) for i in range(steps)],
                                  nn.Conv2d(width, channels, 3, 1, 1), nn.Tanh())

    def forward(self, noise: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        features = self.start(torch.cat([noise, condition], 1)).view(-1, self.top, 4, 4)
        return self.body(features)


class StageTwoGenerator(nn.Module):
    """Stage-I image → strided encoder (½ side) ⊕ ĉ planes → residual blocks → doubled twice → a Tanh image."""

    def __init__(self, channels: int, condition_dim: int, width: int, residual_blocks: int) -> None:
        super().__init__()
        inner = 2 * width
        self.encode = nn.Sequential(nn.Conv2d(channels, width, 3, 1, 1), nn.ReLU(True),
                                    nn.Conv2d(width, inner, 4, 2, 1, bias=False), nn.BatchNorm2d(inner), nn.ReLU(True))
        self.join = nn.Sequential(nn.Conv2d(inner + condition_dim, inner, 3, 1, 1, bias=False), nn.BatchNorm2d(inner),
                                  nn.ReLU(True))
        self.residual = nn.Sequential(*[ResidualBlock(inner) for _ in range(residual_blocks)])
        self.decode = nn.Sequential(_up(inner, width), _up(width, max(width // 2, 4)),
                                    nn.Conv2d(max(width // 2, 4), channels, 3, 1, 1), nn.Tanh())

    def forward(self, low_resolution: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        features = self.encode(low_resolution)
        planes = condition[:, :, None, None].expand(-1, -1, *features.shape[-2:])
        return self.decode(self.residual(self.join(torch.cat([features, planes], 1))))


class StageDiscriminator(nn.Module):
    """Matching-aware D: `image_features(x)` then `judge(features, φ_t)`, so one real batch's features serve both its
    own captions and mismatched ones."""

    def __init__(self, channels: int, side: int, width: int, embedding_dim: int, compressed_dim: int) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(channels, width, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        current, size = width, side // 2
        while size > 4:
            layers += [nn.Conv2d(current, current * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(current * 2),
                       nn.LeakyReLU(0.2, True)]
            current, size = current * 2, size // 2
        self.features = nn.Sequential(*layers)
        self.compress = nn.Sequential(nn.Linear(embedding_dim, compressed_dim), nn.LeakyReLU(0.2, True))
        self.decide = nn.Sequential(nn.Conv2d(current + compressed_dim, current, 3, 1, 1, bias=False),
                                    nn.BatchNorm2d(current), nn.LeakyReLU(0.2, True), nn.Conv2d(current, 1, 4, 1, 0))

    def image_features(self, images: torch.Tensor) -> torch.Tensor:
        return self.features(images)

    def judge(self, features: torch.Tensor, embedding: torch.Tensor) -> torch.Tensor:
        """One logit per pair (image features, caption embedding)."""
        planes = self.compress(embedding)[:, :, None, None].expand(-1, -1, *features.shape[-2:])
        return self.decide(torch.cat([features, planes], 1)).flatten()


class StackGenerator(nn.Module):
    """The sampling network: text encoder, both conditioning augmentations and both stages.

    `forward(latent)` draws the final stage from the prior conditions (what generic sampling calls);
    `draw(latent, tokens, stage)` draws a stage from token ids (None: the prior)."""

    stage_names = STAGE_NAMES

    def __init__(self, vocabulary_size: int, noise_dim: int, condition_dim: int, embedding_dim: int, channels: int,
                 side: int, width: int, residual_blocks: int) -> None:
        super().__init__()
        self.noise_dim, self.condition_dim = noise_dim, condition_dim
        self.text_encoder = TextEncoder(vocabulary_size, embedding_dim)
        self.conditioning = nn.ModuleList(ConditioningAugmentation(embedding_dim, condition_dim) for _ in range(2))
        self.stage_one = StageOneGenerator(noise_dim + condition_dim, channels, side // 2, width * 2)
        self.stage_two = StageTwoGenerator(channels, condition_dim, width, residual_blocks)

    @property
    def latent_dim(self) -> int:
        return self.noise_dim + 2 * self.condition_dim

    def split(self, latent: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """z, ε₀, ε₁ from a flat latent."""
        return latent.split((self.noise_dim, self.condition_dim, self.condition_dim), dim=1)

    def conditions(self, embedding: torch.Tensor | None, epsilons: tuple[torch.Tensor, torch.Tensor]) -> list[torch.Tensor]:
        if embedding is None:
            return list(epsilons)
        return [sample_condition(*augmentation(embedding), epsilon)
                for augmentation, epsilon in zip(self.conditioning, epsilons)]

    def draw(self, latent: torch.Tensor, tokens: torch.Tensor | None = None, stage: int = 2) -> torch.Tensor:
        """Stage `stage` (1 or 2) for a latent batch; `tokens` (N, L) or (1, L) for one caption for all."""
        noise, *epsilons = self.split(latent)
        embedding = None
        if tokens is not None:
            embedding = self.text_encoder(tokens).expand(latent.shape[0], -1)
        first, second = self.conditions(embedding, tuple(epsilons))
        low_resolution = self.stage_one(noise, first)
        return low_resolution if stage == 1 else self.stage_two(low_resolution, second)

    def forward(self, latent: torch.Tensor) -> torch.Tensor:
        return self.draw(latent)
