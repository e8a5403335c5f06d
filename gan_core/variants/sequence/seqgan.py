"""SeqGAN (Yu et al., AAAI 2017) as a GAN Studio variant: sequences of discrete tokens, trained by policy gradient.

The engine is `gan_core.sequence` (the LSTM generator and roll-out policy, the CNN discriminator, the roll-out
rewards, the paper's schedule in `SeqGanModel.train_step`). This module wires it to the trainer: settings from
the config, batches of real sequences, a text preview, the oracle NLL (synthetic data) and held-out NLL curves,
and what a checkpoint holds (the generator, with the vocabulary and the oracle's settings in its description).

The schedule is counted in trainer steps: `pretrain_epochs` MLE epochs (one batch per step), then
`d_pretrain_rounds` rounds of D pre-training (one per step), then adversarial epochs (one per step) until
`steps`. So `steps` decides the adversarial phase's length; a run whose `steps` end before it is MLE only.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from gan_core.config import FieldRule, SettingGroup, TrainConfig
from gan_core.data.token_sequences import TokenData, decode
from gan_core.data.types import DatasetInfo
from gan_core.registry import VariantSpec
from gan_core.samples import TEXT_LINES
from gan_core.sequence.language_model import LstmLanguageModel
from gan_core.sequence.metrics import heldout_nll, oracle_nll
from gan_core.sequence.seqgan import SeqGanModel, TokenBatchSampler
from gan_core.sequence.settings import PAPER_FILTER_COUNTS, SeqGanSettings, cpu_oracle

EVALUATION_NAMES = ("oracle_NLL", "heldout_NLL")
EVALUATION_SEED = 4321  # the samples the oracle scores come from a private generator: training's stream is untouched
PREVIEW_LINES = 16
_CPU = cpu_oracle()

OWN_SETTINGS: dict[str, FieldRule] = {
    "embedding_dim": FieldRule(int, 1, 1024, default=_CPU.embedding_dim, help="SeqGAN: G's token embedding (paper 32)"),
    "hidden_dim": FieldRule(int, 1, 1024, default=_CPU.hidden_dim, help="SeqGAN: G's LSTM size (paper 32)"),
    "generator_init_std": FieldRule(float, 0.0, 10.0, default=_CPU.generator_init_std,
                                    help="SeqGAN: G's parameters start from N(0, std²) (paper 0.1)"),
    "grad_clip": FieldRule(float, 0.0, 100.0, default=_CPU.grad_clip, help="SeqGAN: G's gradient norm clip (paper 5)"),
    "pretrain_epochs": FieldRule(int, 0, 10_000, default=_CPU.pretrain_epochs,
                                 help="SeqGAN: MLE epochs of G before D (paper 120; 15 here for the CPU)"),
    "d_embedding_dim": FieldRule(int, 1, 1024, default=_CPU.d_embedding_dim, help="SeqGAN: D's token embedding (paper 64)"),
    "d_filter_share": FieldRule(float, 0.01, 1.0, default=0.25,
                                help="SeqGAN: share of the paper's 1,720 filters D keeps, at every width 1-10, 15, 20"),
    "d_highway_layers": FieldRule(int, 0, 8, default=_CPU.d_highway_layers, help="SeqGAN: D's highway layers (paper 1)"),
    "d_dropout": FieldRule(float, 0.0, 0.95, default=_CPU.d_dropout, help="SeqGAN: D's dropout (paper: keep 0.75)"),
    "d_l2": FieldRule(float, 0.0, 100.0, default=_CPU.d_l2, help="SeqGAN: L2 on D's output layer (paper 0.2)"),
    "d_pretrain_rounds": FieldRule(int, 0, 100_000, default=_CPU.d_pretrain_rounds,
                                   help="SeqGAN: rounds of D pre-training on fresh negatives (paper 50)"),
    "d_rounds_per_epoch": FieldRule(int, 0, 100, default=_CPU.d_rounds_per_epoch,
                                    help="SeqGAN: D rounds after each adversarial G step (paper 5)"),
    "d_epochs_per_round": FieldRule(int, 1, 100, default=_CPU.d_epochs_per_round,
                                    help="SeqGAN: passes over each round's negatives (paper 3)"),
    "d_negatives": FieldRule(int, 1, 1_000_000, default=_CPU.d_negatives,
                             help="SeqGAN: fresh generated sequences per D round (paper 10,000)"),
    "g_steps_per_epoch": FieldRule(int, 1, 100, default=_CPU.g_steps_per_epoch,
                                   help="SeqGAN: policy-gradient updates of G per adversarial epoch (paper 1)"),
    "mle_epochs_per_epoch": FieldRule(int, 0, 100, default=_CPU.mle_epochs_per_epoch,
                                      help="SeqGAN: MLE epochs of G after each adversarial epoch (paper 0; 1 interleaves "
                                           "teacher forcing)"),
    "rollout_count": FieldRule(int, 1, 1024, default=_CPU.rollout_count, help="SeqGAN: roll-outs per prefix (paper 16)"),
    "rollout_update_rate": FieldRule(float, 0.0, 1.0, default=_CPU.rollout_update_rate,
                                     help="SeqGAN: roll-out policy ← rate · itself + (1 − rate) · G (paper 0.8)"),
    "eval_every": FieldRule(int, 1, 1_000_000, default=50, help="SeqGAN: steps between NLL measurements"),
    "eval_samples": FieldRule(int, 1, 100_000, default=1000, help="SeqGAN: samples the oracle scores at each measurement"),
}


def setting(config: TrainConfig, name: str) -> Any:
    return config.extra.get(name, OWN_SETTINGS[name].default)


def seqgan_settings(config: TrainConfig) -> SeqGanSettings:
    """The engine's settings: batch size and learning rates are config fields, the rest SeqGAN's own."""
    share = setting(config, "d_filter_share")
    own = {name: setting(config, name) for name in OWN_SETTINGS if name not in ("d_filter_share", "eval_every", "eval_samples")}
    return SeqGanSettings(**own, batch_size=config.batch_size, generator_lr=config.lr_g, d_lr=config.lr_d,
                          d_filter_counts=tuple(max(1, math.floor(count * share)) for count in PAPER_FILTER_COUNTS))


class SeqGan(SeqGanModel):
    """SeqGAN's networks and schedule with the trainer's contract (see the module docstring)."""

    layout = None  # no latent vector: the generator samples token by token

    def __init__(self, config: TrainConfig, data: TokenData) -> None:
        super().__init__(seqgan_settings(config), data.vocab_size, data.sequence_length, data.train.shape[0])
        self.config = config
        self.data = data
        self.register_buffer("evaluations", torch.zeros(len(EVALUATION_NAMES)))

    @classmethod
    def from_data(cls, config: TrainConfig, data: TokenData) -> SeqGan:
        return cls(config, data)

    @classmethod
    def describe_data(cls, data: TokenData) -> DatasetInfo:
        return DatasetInfo(data.name, None, [], data.describe())

    @classmethod
    def generator_from_info(cls, config: TrainConfig, info: DatasetInfo) -> nn.Module:
        return LstmLanguageModel(int(info.details["vocab_size"]), int(info.details["sequence_length"]),
                                 setting(config, "embedding_dim"), setting(config, "hidden_dim"))

    def batch_source(self, data: TokenData, batch_size: int, device: torch.device) -> TokenBatchSampler:
        return TokenBatchSampler(data.train, batch_size, device)

    def train_step(self, next_batch: TokenBatchSampler) -> dict[str, torch.Tensor]:
        """The engine's step, plus G's NLLs every `eval_every` steps and at the last (repeated in between, so names
        never change)."""
        measured = super().train_step(next_batch)
        done = int(self.step_count)
        if done in (1, self.config.steps) or done % setting(self.config, "eval_every") == 0:
            self.evaluations.copy_(torch.tensor(self.evaluate()))
        names = EVALUATION_NAMES if self.data.oracle is not None else EVALUATION_NAMES[1:]
        return {**measured, **{name: self.evaluations[EVALUATION_NAMES.index(name)].clone() for name in names}}

    @torch.no_grad()
    def evaluate(self) -> list[float]:
        """[oracle NLL of G's samples (0 without an oracle), G's NLL of the held-out sequences]."""
        oracle = self.data.oracle
        device = self.generator.output.weight.device
        score = 0.0
        if oracle is not None:
            oracle.to(device)
            rng = torch.Generator(device=device).manual_seed(EVALUATION_SEED)
            score = oracle_nll(self.generator, oracle, setting(self.config, "eval_samples"), rng=rng)
        return [score, heldout_nll(self.generator, self.data.heldout.to(device))]

    def setup_preview(self, data: TokenData, device: torch.device, seed: int) -> None:
        self.vocabulary = data.vocabulary

    def preview(self) -> list[str]:
        return self.preview_lines(PREVIEW_LINES, lambda tokens: decode(tokens, self.vocabulary))


SPEC = VariantSpec(
    name="seqgan",
    title="SeqGAN",
    summary="A GAN for sequences of discrete tokens: the generator is a policy, the discriminator scores finished "
            "sequences, and Monte Carlo roll-outs turn its score into a reward for every token.",
    objective=r"\begin{aligned}&\nabla_\theta J = \textstyle\sum_{t} \mathbb{E}_{y_t\sim G_\theta}"
              r"[\nabla_\theta \log G_\theta(y_t|Y_{1:t-1})\, Q(Y_{1:t-1}, y_t)]\\"
              r"&Q(Y_{1:t-1}, y_t) = \tfrac{1}{N}\textstyle\sum_{n=1}^{N} D_\phi(Y^n_{1:T}),\\"
              r"&Y^n_{1:T}\in \mathrm{MC}^{G_\beta}(Y_{1:t}; N)\end{aligned}",
    paper="Yu, Zhang, Wang & Yu, AAAI 2017 — SeqGAN: Sequence Generative Adversarial Nets with Policy Gradient",
    model_class=SeqGan,
    basics=SettingGroup("Basics", ("steps", "batch_size", "seed", "device", "precision")),
    settings=(
        SettingGroup("Generator", ("lr_g", "embedding_dim", "hidden_dim", "generator_init_std", "grad_clip",
                                   "pretrain_epochs")),
        SettingGroup("Discriminator", ("lr_d", "d_embedding_dim", "d_filter_share", "d_highway_layers", "d_dropout",
                                       "d_l2", "d_pretrain_rounds", "d_rounds_per_epoch", "d_epochs_per_round",
                                       "d_negatives")),
        SettingGroup("Policy gradient", ("g_steps_per_epoch", "rollout_count", "rollout_update_rate",
                                         "mle_epochs_per_epoch")),
        SettingGroup("Evaluation", ("eval_every", "eval_samples")),
    ),
    own_settings=OWN_SETTINGS,
    # benchmarks/seqgan_oracle.py's settings (cpu_oracle()): 15 MLE epochs of 157 batches, 16 D rounds, 20 adversarial
    # epochs; lr_g is the paper's 0.01, lr_d 0.01 instead of 1e-4 for a hundredth of the paper's D updates.
    defaults={"dataset": "seqgan_oracle", "steps": 15 * 157 + 16 + 20, "batch_size": _CPU.batch_size,
              "lr_g": _CPU.generator_lr, "lr_d": _CPU.d_lr, "precision": "fp32", "log_every": 10, "sample_every": 200,
              "checkpoint_every": 200},
    sample_kind=TEXT_LINES,
    data="token_sequences",
    page="/sequences",
)
