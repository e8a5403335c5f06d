"""StackGAN (Zhang et al. 2017): text to image in two stages, on captions of real MNIST digits.

One variant whose `train_step` follows a phase schedule set by its own settings, as the paper trains:
- steps 1 .. `stage1_steps`: the text encoder learns to read the captions (cross-entropy on the digit and each
  attribute word; the GAN never back-propagates into it), and Stage-I trains at half the final side: its
  conditioning augmentation, generator and matching-aware discriminator.
- after that the encoder and Stage-I are frozen (eval mode, no gradients) and Stage-II trains on Stage-I's images.
With `ema_decay` (the default), sampling uses an averaged generator with batch-norm statistics of its own; at the
phase change the averaged encoder and Stage-I replace the live ones before they freeze, and the average's warm-up
starts again for Stage-II.

Losses are named per stage (`D_real_I`, `G_GAN_II`, ...), so the live curves put each stage's terms side by side.
The discriminator's loss is the reference code's: log D(real, right text) + ½[log(1 − D(real, wrong text)) +
log(1 − D(G(z, ĉ), right text))]; the generator's is −log D(G(z, ĉ), text) + λ·D_KL(N(μ, σ²) ‖ N(0, I)).
The networks are in `gan_core.nets.stackgan`, the captions in `gan_core.text`.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from gan_core.config import FieldRule, SettingGroup, TrainConfig
from gan_core.data.types import DatasetInfo, ImageDataset
from gan_core.errors import CheckpointError, ConfigError
from gan_core.latent import LatentLayout
from gan_core.nets.stackgan import StackGenerator, StageDiscriminator, kl_to_standard_normal
from gan_core.registry import VariantSpec
from gan_core.text.captions import HELD_OUT_COMBINATIONS, vocabulary_words
from gan_core.text.reading import Vocabulary
from gan_core.text.training_captions import (
    CAPTION_LENGTH,
    CaptionBank,
    CaptionedBatches,
    combination_index,
    image_combinations,
)
from gan_core.variants.base import BatchSource, GanModel, total_grad_norm
from gan_core.variants.images.adversarial import measure_standing_statistics

STACKGAN_SETTINGS = {
    "stage1_steps": FieldRule(int, 0, 10_000_000, default=6000, help="StackGAN: steps that train the text encoder "
                              "and Stage-I; Stage-II trains on the frozen Stage-I for the remaining steps"),
    "kl_weight": FieldRule(float, 0.0, 100.0, default=0.005, help="StackGAN: weight λ of the conditioning "
                           "augmentation's KL term in each generator's loss (the paper: 1). The KL bounds what the "
                           "condition can carry, and its noise blurs neighbouring captions into each other: at λ = 1 "
                           "the KL was 0.8 nats by step 500 and every caption drew the same digit; at 0.005 the KL is "
                           "about 19 nats and Stage-I draws the named digit more often than at 0.02 (checkpoints/README.md)"),
    "condition_dim": FieldRule(int, 1, 256, default=16, help="StackGAN: dimensions of the sampled condition ĉ "
                               "(the paper: 128)"),
    "embedding_dim": FieldRule(int, 4, 512, default=32, help="StackGAN: dimensions of the sentence embedding φ_t"),
    "residual_blocks": FieldRule(int, 0, 8, default=2, help="StackGAN: residual blocks in Stage-II's generator "
                                 "(the paper: 4)"),
}
TEXT_ENCODER_LR = 1e-2
SUFFIXES = ("I", "II")
PREVIEW_NOISES = 5
STANDING_STATISTICS_SEED = 20_170_001
STAGE_ONE_PARTS = ("text_encoder", "conditioning.0", "stage_one")
"""What freezes when Stage-II starts: the sentence embedding and everything that draws Stage-I."""


def _setting(config: TrainConfig, name: str):
    return config.extra.get(name, STACKGAN_SETTINGS[name].default)


def _bce(logits: torch.Tensor, target: float) -> torch.Tensor:
    logits = logits.float()
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


class StackGAN(GanModel):
    """Text encoder, two conditioning augmentations, two generator stages and two matching-aware discriminators."""

    @classmethod
    def check_side(cls, image_shape) -> None:
        side = image_shape[1]
        if side < 16 or side & (side - 1):
            raise ConfigError(f"stackgan draws Stage-I at half the image size from 4×4, so the image size must be a "
                              f"power of two of at least 16 (16, 32, 64); got {side}")

    @classmethod
    def build_stack(cls, config: TrainConfig, image_shape, vocabulary_size: int) -> StackGenerator:
        cls.check_side(image_shape)
        return StackGenerator(vocabulary_size, config.noise_dim, _setting(config, "condition_dim"),
                              _setting(config, "embedding_dim"), image_shape[0], image_shape[1], config.width,
                              _setting(config, "residual_blocks"))

    @classmethod
    def build_generator(cls, config: TrainConfig, image_shape, num_classes) -> nn.Module:
        return cls.build_stack(config, image_shape, len(Vocabulary(vocabulary_words())))

    @classmethod
    def build_discriminator(cls, config: TrainConfig, image_shape, num_classes) -> nn.Module:
        channels, side = image_shape[0], image_shape[1]
        embedding_dim = _setting(config, "embedding_dim")
        return nn.ModuleList(StageDiscriminator(channels, size, config.width, embedding_dim, _setting(config, "condition_dim"))
                             for size in (side // 2, side))

    @classmethod
    def latent_layout(cls, config: TrainConfig, num_classes: int) -> LatentLayout:
        """z, then ε for each stage's conditioning augmentation: all standard normal, so the layout is all noise."""
        return LatentLayout(noise_dim=config.noise_dim + 2 * _setting(config, "condition_dim"))

    @classmethod
    def describe_data(cls, dataset: ImageDataset) -> DatasetInfo:
        """The images' description plus the vocabulary and the held-out combinations, so the checkpoint reads text alone."""
        return DatasetInfo(dataset.name, dataset.image_shape, list(dataset.class_names),
                           {"vocabulary": Vocabulary(vocabulary_words()).to_list(), "caption_length": CAPTION_LENGTH,
                            "held_out_combinations": [list(c) for c in HELD_OUT_COMBINATIONS]})

    @classmethod
    def generator_from_info(cls, config: TrainConfig, info: DatasetInfo) -> nn.Module:
        words = info.details.get("vocabulary")
        if not isinstance(words, list) or not words:
            raise CheckpointError("this stackgan checkpoint holds no vocabulary in its metadata; it cannot read text")
        return cls.build_stack(config, info.image_shape, len(Vocabulary(words)))

    def __init__(self, config: TrainConfig, image_shape: tuple[int, int, int], num_classes: int) -> None:
        if num_classes != 10:
            raise ConfigError("stackgan captions digits from their labels and measured strokes, so it needs a labelled "
                              "digit dataset with ten classes (mnist_5k or digits)")
        super().__init__(config, image_shape, num_classes)
        self.vocabulary = Vocabulary(vocabulary_words())
        self.captions = CaptionBank(self.vocabulary)
        self.stage1_steps = _setting(config, "stage1_steps")
        self.kl_weight = _setting(config, "kl_weight")

    # --- set-up ---------------------------------------------------------------------------
    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """Adam per player and stage (the paper's 2e-4, β1 0.5); the text encoder's own at 1e-2 (it reads the
        captions well within 100 steps)."""
        c, g = self.config, self.generator

        def adam(parameters, lr):
            return torch.optim.Adam(parameters, lr=lr, betas=(c.beta1, c.beta2))

        return {
            "text_encoder": torch.optim.Adam(g.text_encoder.parameters(), lr=TEXT_ENCODER_LR),
            "generator_I": adam([*g.stage_one.parameters(), *g.conditioning[0].parameters()], c.lr_g),
            "discriminator_I": adam(self.discriminator[0].parameters(), c.lr_d),
            "generator_II": adam([*g.stage_two.parameters(), *g.conditioning[1].parameters()], c.lr_g),
            "discriminator_II": adam(self.discriminator[1].parameters(), c.lr_d),
        }

    def base_learning_rates(self) -> dict[str, float]:
        c = self.config
        return {"text_encoder": TEXT_ENCODER_LR, "generator_I": c.lr_g, "discriminator_I": c.lr_d,
                "generator_II": c.lr_g, "discriminator_II": c.lr_d}

    def _apply(self, fn, recurse=True):
        super()._apply(fn, recurse)
        self.captions.tokens, self.captions.digits, self.captions.said, self.captions.trainable = (
            fn(self.captions.tokens), fn(self.captions.digits), fn(self.captions.said), fn(self.captions.trainable))
        return self

    def batch_source(self, dataset: ImageDataset, batch_size: int, device: torch.device) -> BatchSource:
        """Real images with their measured combination (digit, slant, thickness, width); held-out ones left out."""
        return CaptionedBatches(dataset.images, image_combinations(dataset.images, dataset.labels), batch_size, device)

    # --- training -------------------------------------------------------------------------
    def text_encoder_step(self, rows: torch.Tensor) -> dict[str, torch.Tensor]:
        """One update of the encoder on a batch of captions: read back the digit and each attribute word."""
        encoder = self.generator.text_encoder
        digits, attributes = self.captions.targets(rows)
        digit_logits, attribute_logits = encoder.read(encoder(self.captions.tokens[rows]))
        loss = F.cross_entropy(digit_logits.float(), digits)
        for index, logits in enumerate(attribute_logits):
            loss = loss + F.cross_entropy(logits.float(), attributes[:, index])
        optimizer = self.optimizers["text_encoder"]
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        accuracy = (digit_logits.argmax(1) == digits).float().mean()
        return {"text_CE": loss.detach(), "text_digit_accuracy": accuracy.detach()}

    def stage_images(self, stage: int, noise: torch.Tensor, epsilons, embedding: torch.Tensor, low_resolution=None):
        """Stage `stage`'s images for a batch with G's graph, and the (μ, log σ²) of its conditioning augmentation."""
        generator = self.generator
        mu, log_variance = generator.conditioning[stage](embedding)
        condition = mu + torch.exp(0.5 * log_variance) * epsilons[stage]
        if stage == 0:
            return generator.stage_one(noise, condition), mu, log_variance
        return generator.stage_two(low_resolution, condition), mu, log_variance

    def gan_step(self, stage: int, real: torch.Tensor, right: torch.Tensor, wrong: torch.Tensor) -> dict[str, torch.Tensor]:
        """One D then one G update of stage `stage` (0 or 1), with the caption embeddings `right` and `wrong`."""
        suffix = SUFFIXES[stage]
        generator, discriminator = self.generator, self.discriminator[stage]
        n, device = real.shape[0], real.device
        noise = torch.randn(n, generator.noise_dim, device=device)
        epsilons = torch.randn(2, n, generator.condition_dim, device=device).unbind(0)
        low_resolution = None
        if stage == 1:
            with torch.no_grad():
                low_resolution = self.stage_images(0, noise, epsilons, right)[0]
        else:
            real = F.avg_pool2d(real, 2)
        fake, mu, log_variance = self.stage_images(stage, noise, epsilons, right, low_resolution)

        real_features = discriminator.image_features(real)
        real_logits = discriminator.judge(real_features, right)
        wrong_logits = discriminator.judge(real_features, wrong)
        fake_logits = discriminator.judge(discriminator.image_features(fake.detach()), right)
        terms = {f"D_real_{suffix}": _bce(real_logits, 1.0), f"D_wrong_{suffix}": 0.5 * _bce(wrong_logits, 0.0),
                 f"D_fake_{suffix}": 0.5 * _bce(fake_logits, 0.0)}
        optimizer = self.optimizers[f"discriminator_{suffix}"]
        optimizer.zero_grad(set_to_none=True)
        torch.stack(list(terms.values())).sum().backward()
        logs = {name: value.detach() for name, value in terms.items()}
        logs[f"grad_norm_D_{suffix}"] = total_grad_norm(discriminator)
        optimizer.step()

        discriminator.requires_grad_(False)
        kl = kl_to_standard_normal(mu.float(), log_variance.float())
        g_terms = {f"G_GAN_{suffix}": _bce(discriminator.judge(discriminator.image_features(fake), right), 1.0),
                   f"G_KL_{suffix}": self.kl_weight * kl}
        optimizer = self.optimizers[f"generator_{suffix}"]
        optimizer.zero_grad(set_to_none=True)
        torch.stack(list(g_terms.values())).sum().backward()
        discriminator.requires_grad_(True)
        logs.update({name: value.detach() for name, value in g_terms.items()})
        logs[f"KL_{suffix}"] = kl.detach()
        logs[f"grad_norm_G_{suffix}"] = total_grad_norm(generator.stage_one if stage == 0 else generator.stage_two)
        optimizer.step()
        with torch.no_grad():
            logs[f"D(x)_{suffix}"] = torch.sigmoid(real_logits.float()).mean()
            logs[f"D(x, wrong text)_{suffix}"] = torch.sigmoid(wrong_logits.float()).mean()
            logs[f"D(G(z))_{suffix}"] = torch.sigmoid(fake_logits.float()).mean()
        return logs

    def calibrate_batch_norm(self, generator: StackGenerator, batch_size: int = 64) -> None:
        """Standing statistics, in place (`measure_standing_statistics`), from caption-conditioned draws of trainable
        captions: an averaged (EMA) generator has never run forward in training mode, so statistics copied from the
        live one do not fit its weights. Frozen modules (eval mode) keep theirs."""
        device = next(generator.parameters()).device
        trainable = self.captions.trainable.cpu()

        def draw_batch(rng: torch.Generator) -> None:
            rows = trainable[torch.randint(len(trainable), (batch_size,), generator=rng)].to(device)
            latent = torch.randn(batch_size, generator.latent_dim, generator=rng).to(device)
            generator.draw(latent, self.captions.tokens[rows])

        measure_standing_statistics(generator, draw_batch, seed=STANDING_STATISTICS_SEED)

    def ema_decay_now(self) -> float:
        """The EMA warm-up restarts with Stage-II: its weights only begin to train at `stage1_steps`, and an average
        already at full decay would still hold most of their random initial values 1,000 steps later."""
        steps = self.steps_done if self.steps_done < self.stage1_steps else self.steps_done - self.stage1_steps
        return min(self.config.ema_decay, (1 + steps) / (10 + steps))

    def sampling_generator(self) -> nn.Module:
        """The EMA generator, when enabled, with standing batch-norm statistics measured on a copy (sampling never
        changes the training state, so a resumed run stays identical to one never stopped)."""
        if self.ema_generator is None:
            return self.generator
        calibrated = copy.deepcopy(self.ema_generator).train()
        if self.steps_done >= self.stage1_steps:  # the update at stage1_steps froze Stage-I
            for name in STAGE_ONE_PARTS:
                calibrated.get_submodule(name).eval()
        self.calibrate_batch_norm(calibrated)
        return calibrated.train(self.ema_generator.training)

    @torch.no_grad()
    def adopt_averaged_stage_one(self) -> None:
        """When Stage-II starts, with EMA: the averaged encoder and Stage-I (with standing statistics) replace the
        live ones before they freeze, so Stage-II learns from the very Stage-I that sampling draws."""
        if self.ema_generator is None:
            return
        generator = self.generator
        for name in STAGE_ONE_PARTS:
            generator.get_submodule(name).load_state_dict(self.ema_generator.get_submodule(name).state_dict())
        generator.stage_two.eval()
        self.calibrate_batch_norm(generator)
        generator.stage_two.train()

    def train_step(self, next_batch: BatchSource) -> dict[str, torch.Tensor]:
        real, combinations = next_batch()
        right_rows = self.captions.real_rows(combinations)
        wrong_rows = self.captions.mismatched_rows(combinations)
        stage = 0 if self.steps_done < self.stage1_steps else 1
        logs = self.text_encoder_step(right_rows) if stage == 0 else {}
        if self.steps_done == self.stage1_steps:
            self.adopt_averaged_stage_one()
        if stage == 1:
            for name in STAGE_ONE_PARTS:
                self.generator.get_submodule(name).eval().requires_grad_(False)
        with torch.no_grad():
            right = self.generator.text_encoder(self.captions.tokens[right_rows])
            wrong = self.generator.text_encoder(self.captions.tokens[wrong_rows])
        logs.update(self.gan_step(stage, real, right, wrong))
        self.update_ema()
        return logs

    # --- preview --------------------------------------------------------------------------
    def setup_preview(self, dataset: ImageDataset, device: torch.device, seed: int) -> None:
        """Ten captions, one per digit with varied words, each drawn with the same five noises at both stages."""
        digits = torch.arange(10)
        bins = torch.stack([digits % 3, (digits + 1) % 3, (digits // 3) % 3], 1)
        rows = combination_index(digits, bins) * 16
        rng = torch.Generator(device="cpu").manual_seed(seed)
        latents = torch.randn(PREVIEW_NOISES, self.layout.dim, generator=rng)
        self.preview_texts = [self.captions.texts[int(row)] for row in rows]
        self.preview_inputs = {"latent": latents.repeat(10, 1).to(device),
                               "rows": rows.repeat_interleave(PREVIEW_NOISES).to(device)}

    @torch.inference_mode()
    def preview(self) -> tuple[torch.Tensor, int]:
        """Columns alternate Stage-I (upsampled) and Stage-II for five noises; one row per caption. Drawn by the
        generator that sampling uses (the EMA one, with its standing statistics, when enabled), so the dashboard
        shows what an exported file would draw."""
        generator = self.sampling_generator()
        was_training = generator.training
        generator.eval()
        tokens = self.captions.tokens[self.preview_inputs["rows"]]
        latent = self.preview_inputs["latent"]
        first = generator.draw(latent, tokens, stage=1)
        second = generator.draw(latent, tokens, stage=2)
        generator.train(was_training)
        if generator is self.generator and self.steps_done >= self.stage1_steps:
            generator.text_encoder.eval()  # frozen with Stage-I: keep them in eval mode for training
            generator.stage_one.eval()
        upsampled = F.interpolate(first, size=second.shape[-2:], mode="nearest")
        return torch.stack([upsampled, second], 1).flatten(0, 1), 2 * PREVIEW_NOISES


SPEC = VariantSpec(
    name="stackgan",
    title="StackGAN",
    summary="Text to image in two stages: a sentence embedding, conditioning augmentation, a coarse Stage-I image "
            "and a Stage-II refinement, each judged by a matching-aware discriminator.",
    objective=r"\begin{aligned}&\max_{D_i} \; \mathbb{E}[\log D_i(x, \varphi_t)] + \tfrac12\mathbb{E}[\log(1 - "
              r"D_i(x, \varphi_{\bar t}))]\\&\qquad + \tfrac12\mathbb{E}[\log(1 - D_i(G_i(z, \hat c), \varphi_t))]\\"
              r"&\min_{G_i} \; -\log D_i(G_i(z, \hat c), \varphi_t)\\&\qquad + \lambda D_{KL}(\mathcal{N}(\mu(\varphi_t), "
              r"\Sigma(\varphi_t)) \,\|\, \mathcal{N}(0, I))\end{aligned}",
    paper="Zhang et al., 2017 — StackGAN: Text to Photo-realistic Image Synthesis with Stacked GANs",
    settings=(
        SettingGroup("Optimiser", ("lr_g", "lr_d", "beta1", "beta2", "lr_decay_start")),
        SettingGroup("Stages", ("stage1_steps", "kl_weight", "ema_decay")),
        SettingGroup("Networks", ("noise_dim", "width", "condition_dim", "embedding_dim", "residual_blocks")),
    ),
    model_class=StackGAN,
    own_settings=STACKGAN_SETTINGS,
    defaults={"lr_g": 2e-4, "lr_d": 2e-4, "beta1": 0.5, "beta2": 0.999, "noise_dim": 32, "width": 32,
              "batch_size": 64, "steps": 8000, "ema_decay": 0.999},
    page="/text-to-image",
    preview_columns=("Stage-I (upsampled)", "Stage-II", "the pair again for the next noise"),
    distributed=False,
    single_process_reason="StackGAN's phase schedule and caption bank have not been tried under torchrun",
)
