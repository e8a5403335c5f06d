"""IRGAN (Wang et al., SIGIR 2017) as a GAN Studio variant: recommending movies on MovieLens-100K.

The engine is `gan_core.retrieval` (matrix-factorisation players, the policy-gradient step with importance
sampling, BPR and dynamic negative sampling, the fixed split, the metrics). This module only wires it to the
trainer: settings from the config, the pre-training the paper starts from, batches of users, a ranked-list
preview, a held-out Precision@5 curve, and what a checkpoint holds.

What `from_data` does before step 0, as the paper's code does: it pre-trains the generator's starting model
with dynamic negative sampling (`pretrain_epochs`), and trains BPR with the same budget as the non-adversarial
baseline shown beside IRGAN (kept frozen in the model, so the checkpoint can show both). This takes about a
minute at the defaults (benchmarks/irgan_ranking.py: 20-45 s each on one core).

A checkpoint (`generator.safetensors`) holds three matrix factorisations: `generator` (IRGAN's G, the
recommender), `discriminator` (IRGAN's D, which the paper also reads as a ranker) and `bpr` (the baseline),
with the user and item counts in its dataset description. No rating and no title is stored: they are read
from the installed MovieLens files (`gan_core.retrieval.recommender`).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from gan_core.config import FieldRule, SettingGroup, TrainConfig
from gan_core.data.movielens_100k import SPLITS, RatingsData
from gan_core.data.types import DatasetInfo
from gan_core.registry import VariantSpec
from gan_core.retrieval.bpr import PairwiseSettings, train_pairwise
from gan_core.retrieval.irgan import IrganModel, IrganSettings, UserBatches
from gan_core.retrieval.metrics import ranking_metrics
from gan_core.retrieval.samples import ranked_list
from gan_core.retrieval.scorers import MatrixFactorization
from gan_core.samples import RANKED_LISTS

METRIC_NAMES = ("D_loss", "D(real)", "D(fake)", "G_loss", "reward_mean", "held_out_P@5")
PREVIEW_USERS = 4
PREVIEW_LENGTH = 5
RANKERS = ("generator", "discriminator", "bpr")

OWN_SETTINGS: dict[str, FieldRule] = {
    "embedding_dim": FieldRule(int, 1, 256, default=5, help="IRGAN: embedding size of G, D and BPR (the code's 5)"),
    "sample_temperature": FieldRule(float, 0.01, 100.0, default=0.2,
                                    help="IRGAN: G's softmax temperature when drawing D's negatives (the code's 0.2)"),
    "policy_temperature": FieldRule(float, 0.01, 100.0, default=1.0,
                                    help="IRGAN: G's softmax temperature in the policy gradient"),
    "importance_mix": FieldRule(float, 0.0, 0.99, default=0.2,
                                help="IRGAN: λ, share of G's proposal put on the user's relevant items (the code's 0.2)"),
    "samples_per_relevant": FieldRule(int, 1, 100, default=2, help="IRGAN: items G draws per relevant training item"),
    "reward": FieldRule(str, choices=("centered_sigmoid", "log1p_exp"), default="centered_sigmoid",
                        help="IRGAN: D's reward, the code's 2σ(f)−1 or the paper's log(1+e^f)"),
    "update_rule": FieldRule(str, choices=("adam", "sgd"), default="adam",
                             help="IRGAN: optimiser of G and D (the code: SGD one user at a time; Adam tuned here)"),
    "l2_g": FieldRule(float, 0.0, 10.0, default=0.0, help="IRGAN: G's L2 penalty per example"),
    "l2_d": FieldRule(float, 0.0, 10.0, default=0.1, help="IRGAN: D's L2 penalty per example (the code's 0.1)"),
    "d_updates": FieldRule(int, 0, 100, default=2, help="IRGAN: D updates per step (the paper's 100:50 epochs is 2:1)"),
    "g_updates": FieldRule(int, 0, 100, default=1, help="IRGAN: G updates per step"),
    "warmup_steps": FieldRule(int, 0, 10_000_000, default=200, help="IRGAN: D-only steps before G moves"),
    "exclude_seen_negatives": FieldRule(bool, default=False,
                                        help="IRGAN: D's negatives skip the user's training items (the code does not)"),
    "d_from_pretrained": FieldRule(bool, default=False,
                                   help="IRGAN: D starts from the pre-trained model too (the code starts it fresh)"),
    "pretrain_epochs": FieldRule(int, 0, 1000, default=100,
                                 help="IRGAN: epochs of dynamic negative sampling for G's starting model (0: random)"),
    "pretrain_candidates": FieldRule(int, 1, 100, default=5,
                                     help="IRGAN: candidates per dynamic negative (the code's 5; 1 is BPR)"),
    "bpr_epochs": FieldRule(int, 1, 1000, default=100, help="IRGAN: epochs of the BPR baseline kept beside it"),
    "pretrain_batch": FieldRule(int, 1, 100_000, default=1024, help="IRGAN: pairs per update of the pre-training and BPR"),
    "pretrain_lr": FieldRule(float, 1e-6, 1.0, default=0.01, help="IRGAN: Adam learning rate of pre-training and BPR"),
    "pretrain_l2": FieldRule(float, 0.0, 10.0, default=0.03, help="IRGAN: L2 penalty of pre-training and BPR"),
    "split": FieldRule(str, choices=SPLITS, default="validation",
                       help="IRGAN: train on 64% and measure on 16% (validation), or on 80% and measure on 20% (test)"),
    "eval_every": FieldRule(int, 1, 1_000_000, default=50, help="IRGAN: steps between held-out P@5 measurements"),
}


def setting(config: TrainConfig, name: str) -> Any:
    """One of IRGAN's own settings in `config` (its default when the config predates it)."""
    return config.extra.get(name, OWN_SETTINGS[name].default)


def irgan_settings(config: TrainConfig) -> IrganSettings:
    """The engine's settings from a GAN Studio config: learning rates and users per batch are config fields."""
    return IrganSettings(
        dim=setting(config, "embedding_dim"), sample_temperature=setting(config, "sample_temperature"),
        policy_temperature=setting(config, "policy_temperature"), importance_mix=setting(config, "importance_mix"),
        samples_per_relevant=setting(config, "samples_per_relevant"), reward=setting(config, "reward"),
        optimizer=setting(config, "update_rule"), lr_g=config.lr_g, lr_d=config.lr_d, l2_g=setting(config, "l2_g"),
        l2_d=setting(config, "l2_d"), d_updates=setting(config, "d_updates"), g_updates=setting(config, "g_updates"),
        d_warmup_steps=setting(config, "warmup_steps"), users_per_batch=config.batch_size,
        exclude_seen_negatives=setting(config, "exclude_seen_negatives"),
        discriminator_from_pretrained=setting(config, "d_from_pretrained"),
    )


def pairwise_settings(config: TrainConfig, candidates: int, epochs: int) -> PairwiseSettings:
    return PairwiseSettings(dim=setting(config, "embedding_dim"), candidates=candidates, epochs=epochs,
                            batch_size=setting(config, "pretrain_batch"), lr=setting(config, "pretrain_lr"),
                            l2=setting(config, "pretrain_l2"))


def rankers(n_users: int, n_items: int, dim: int) -> nn.ModuleDict:
    """The three matrix factorisations a checkpoint holds (fresh weights, to be overwritten)."""
    return nn.ModuleDict({name: MatrixFactorization(n_users, n_items, dim) for name in RANKERS})


class Irgan(IrganModel):
    """IRGAN's two players, the frozen BPR baseline, and the trainer's contract (see the module docstring)."""

    layout = None  # no latent vector: a ranking model samples lists for users

    def __init__(self, config: TrainConfig, n_users: int, n_items: int, pretrained: MatrixFactorization | None = None,
                 baseline: MatrixFactorization | None = None) -> None:
        super().__init__(irgan_settings(config), n_users, n_items, pretrained)
        self.config = config
        self.bpr = MatrixFactorization(n_users, n_items, self.settings.dim).requires_grad_(False)
        if baseline is not None:
            self.bpr.load_state_dict(baseline.state_dict())
        self.register_buffer("held_out", torch.zeros(n_users, n_items, dtype=torch.bool), persistent=False)
        # The last value of every logged series: a step that does not measure one repeats it, so every step
        # returns the same names (the trainer's contract) and a resumed run repeats the same values.
        self.register_buffer("last_metrics", torch.zeros(len(METRIC_NAMES)))

    # --- construction from data and from a checkpoint ------------------------------------------
    @classmethod
    def from_data(cls, config: TrainConfig, data: RatingsData) -> Irgan:
        """Pre-train G's starting model and the BPR baseline on the split's training part, then build IRGAN."""
        task = data.task(setting(config, "split"))
        epochs = setting(config, "pretrain_epochs")
        pretrained = None
        if epochs > 0:
            pretrained = train_pairwise(task.relevant, pairwise_settings(config, setting(config, "pretrain_candidates"),
                                                                         epochs), config.seed)
        baseline = train_pairwise(task.relevant, pairwise_settings(config, 1, setting(config, "bpr_epochs")), config.seed)
        model = cls(config, data.n_users, data.n_items, pretrained, baseline)
        model.attach_interactions(task)
        model.held_out.copy_(task.held_out)
        return model

    @classmethod
    def describe_data(cls, data: RatingsData) -> DatasetInfo:
        return DatasetInfo(data.name, None, [], {"n_users": data.n_users, "n_items": data.n_items})

    @classmethod
    def generator_from_info(cls, config: TrainConfig, info: DatasetInfo) -> nn.Module:
        return rankers(int(info.details["n_users"]), int(info.details["n_items"]), setting(config, "embedding_dim"))

    def sampling_generator(self) -> nn.Module:
        """What a checkpoint holds: G, D and the BPR baseline (the same modules, not copies)."""
        return nn.ModuleDict({"generator": self.generator, "discriminator": self.discriminator, "bpr": self.bpr})

    # --- training ------------------------------------------------------------------------
    def batch_source(self, data: RatingsData, batch_size: int, device: torch.device) -> UserBatches:
        """Batches of `batch_size` users with a relevant training item, from the global torch RNG."""
        return self.user_batches()

    def train_step(self, next_batch: UserBatches) -> dict[str, torch.Tensor]:
        """The engine's step (D updates, then G's policy gradient after the warm-up) and, every `eval_every`
        steps, G's Precision@5 on the split's held-out ratings."""
        measured = super().train_step(next_batch)
        if self.steps_done % setting(self.config, "eval_every") == 0 or self.steps_done in (1, self.config.steps):
            measured["held_out_P@5"] = torch.tensor(self.evaluate(self.held_out, "generator", ks=(5,))["P@5"])
        for index, name in enumerate(METRIC_NAMES):
            if name in measured:
                self.last_metrics[index] = measured[name].detach().float()
        return dict(zip(METRIC_NAMES, self.last_metrics.clone().unbind()))

    # --- the preview: a few users' top items ------------------------------------------------
    def setup_preview(self, data: RatingsData, device: torch.device, seed: int) -> None:
        """The same few users (with held-out relevant items) at every preview, chosen by `seed`."""
        candidates = self.held_out.any(1).nonzero().squeeze(1).cpu()
        order = torch.randperm(candidates.numel(), generator=torch.Generator().manual_seed(seed))
        self.preview_users = candidates[order[:PREVIEW_USERS]].sort().values.tolist()
        self.ratings = data.ratings

    @torch.no_grad()
    def preview(self) -> list[dict[str, Any]]:
        """G's top items for the preview users, held-out hits marked: rows of a table."""
        rows = []
        for user in self.preview_users:
            scores = self.generator.all_scores(torch.tensor([user], device=self.seen.device))[0].cpu()
            for item in ranked_list(scores, self.seen[user].cpu(), self.ratings, PREVIEW_LENGTH,
                                    self.held_out[user].cpu()):
                rows.append({"user": self.ratings.user_ids[user], **item.to_dict()})
        return rows

    @torch.no_grad()
    def evaluate_all(self, ks: tuple[int, ...] = (3, 5, 10)) -> dict[str, dict[str, float]]:
        """Every ranker's P@k and NDCG@k on the split's held-out ratings."""
        return {name: ranking_metrics(getattr(self, name).all_scores(), self.seen, self.held_out, ks) for name in RANKERS}


SPEC = VariantSpec(
    name="irgan",
    title="IRGAN",
    summary="A GAN for information retrieval: the generator recommends movies, the discriminator tells a user's "
            "liked movies from the picked ones, and the generator learns by policy gradient (MovieLens-100K).",
    objective=r"\begin{aligned}&\min_\theta\max_\phi \sum_u \mathbb{E}_{i\sim p_{true}(i|u)}[\log D_\phi(i|u)]\\"
              r"&\quad+\mathbb{E}_{i\sim p_\theta(i|u)}[\log(1-D_\phi(i|u))]\\"
              r"&\nabla_\theta J = \mathbb{E}_{i\sim p_\theta}[\nabla_\theta \log p_\theta(i|u)\,"
              r"\log(1+e^{f_\phi(i,u)})]\end{aligned}",
    paper="Wang et al., SIGIR 2017 — IRGAN: A Minimax Game for Unifying Generative and Discriminative "
          "Information Retrieval Models",
    model_class=Irgan,
    basics=SettingGroup("Basics", ("steps", "batch_size", "seed", "device", "precision")),
    settings=(
        SettingGroup("Optimiser", ("update_rule", "lr_g", "lr_d", "d_updates", "g_updates", "warmup_steps")),
        SettingGroup("Game", ("embedding_dim", "sample_temperature", "policy_temperature", "importance_mix",
                              "samples_per_relevant", "reward", "l2_g", "l2_d", "exclude_seen_negatives",
                              "d_from_pretrained")),
        SettingGroup("Pre-training and baseline", ("pretrain_epochs", "pretrain_candidates", "bpr_epochs",
                                                   "pretrain_batch", "pretrain_lr", "pretrain_l2")),
        SettingGroup("Evaluation", ("split", "eval_every")),
    ),
    own_settings=OWN_SETTINGS,
    # benchmarks/irgan_ranking.py's tuned values: Adam, lr_g 1e-4, lr_d 0.01, 200 warm-up + 500 adversarial steps
    defaults={"dataset": "ml100k", "steps": 700, "batch_size": 64, "lr_g": 1e-4, "lr_d": 0.01, "precision": "fp32",
              "log_every": 10, "sample_every": 100, "checkpoint_every": 100},
    sample_kind=RANKED_LISTS,
    data="ratings",
    page="/recommend",
)
