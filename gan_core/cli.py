"""`python -m gan_core ...`: train, sample, evaluate, translate, and list variants and datasets from a shell.

Errors a user can cause print one line to stderr and exit with status 2; no traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from gan_core.config import FieldRule, TrainConfig, saved_config_from_dict
from gan_core.errors import ConfigError, GanStudioError

# Kept in step with gan_core.judge.JUDGED_DATASETS (not imported from there: it would load torch for --help).
JUDGED_DATASETS = ("mnist_5k", "digits")

NOT_FLAGS = ("variant", "extra", "refresh_seconds")  # given by --variant, by variants' own flags, or by the app


def train_flags() -> dict[str, tuple[FieldRule, list[str]]]:
    """Every setting a variant reads, as a flag: name → (rule, the variants that read it).

    Derived from the config rules and the variants' specs, so a variant's new setting is a flag without
    touching this file; given to a variant that does not read it, the flag is refused with the variant's name.
    """
    from gan_core.registry import variants

    flags: dict[str, tuple[FieldRule, list[str]]] = {}
    for spec in variants().values():
        for name in sorted(spec.reads - set(NOT_FLAGS)):
            flags.setdefault(name, (spec.rule(name), []))[1].append(spec.name)
    return dict(sorted(flags.items()))


def train_arguments(config: TrainConfig, out: str) -> list[str]:
    """`python -m gan_core train` arguments that reproduce `config`: its variant, dataset, and every setting it
    reads whose value differs from the variant's default (so a command stays short and readable).

    The inverse of `_train`'s flag parsing, for the Train page's torchrun commands. Settings kept in `extra`
    that no flag names cannot be given this way and are left out.
    """
    from gan_core.registry import get_variant

    spec = get_variant(config.variant)
    base = spec.default_config(dataset=config.dataset)
    arguments = ["train", "--variant", config.variant, "--out", out]
    if config.dataset != spec.default_config().dataset:
        arguments += ["--dataset", config.dataset]
    for name in sorted(spec.reads - set(NOT_FLAGS) - {"dataset"}):
        value, default = spec.value(config, name), spec.value(base, name)
        if value != default and value is not None:
            arguments += [f"--{name.replace('_', '-')}", str(value).lower() if isinstance(value, bool) else str(value)]
    return arguments


def _flag_help(rule: FieldRule, readers: list[str], all_variants: int) -> str:
    text = rule.describe() + (f"; {rule.help}" if rule.help else "")
    text = text if len(readers) == all_variants else f"{text} ({', '.join(readers)})"
    return text.replace("%", "%%")  # argparse formats help with %: "64%" in a help text must reach --help as it is


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m gan_core", description="GAN Studio command line")
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser("variants", help="list the GAN variants")
    commands.add_parser("datasets", help="list the datasets, image-to-image ones last")

    train = commands.add_parser("train", help="train a variant; writes checkpoints, metrics and samples to --out")
    train.add_argument("--variant", help="variant name (see `variants`)")
    train.add_argument("--out", type=Path, help="run folder to create")
    train.add_argument("--resume", type=Path, help="run folder to continue from its last checkpoint")
    train.add_argument("--config", type=Path, help="JSON file of config fields (flags override it)")
    train.add_argument("--lr", type=float, help="set both learning rates")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    from gan_core.data.catalogue import dataset_names
    from gan_core.registry import variants

    count = len(variants())
    for name, (rule, readers) in train_flags().items():
        text = _flag_help(rule, readers, count)
        if name == "dataset":  # the names, not "text": they are in the catalogue, not the field's rule
            text = f"one of {', '.join(dataset_names())} (`datasets` describes them; default: the variant's)"
        train.add_argument(f"--{name.replace('_', '-')}", dest=name, help=text)

    sample = commands.add_parser("sample", help="what a checkpoint draws: images, a user's ranked list, or sequences")
    sample.add_argument("--checkpoint", type=Path, required=True)
    sample.add_argument("--n", type=int, help="images or sequences to draw (default 64 and 16), or the length of a "
                        "ranked list (default 10)")
    sample.add_argument("--seed", type=int, default=0)
    sample.add_argument("--label", type=int, help="class label (class-conditional models: CGAN, ACGAN, BigGAN, LAPGAN)")
    sample.add_argument("--truncation", type=float, help="redraw noise values beyond this threshold (models that "
                                                         "allow it: BigGAN)")
    sample.add_argument("--category", type=int, help="categorical code value (InfoGAN)")
    sample.add_argument("--continuous", help="comma-separated continuous code values (InfoGAN)")
    sample.add_argument("--caption", help="text-to-image models (StackGAN): the sentence to draw, e.g. "
                        "\"a thin 3 leaning left\"")
    sample.add_argument("--stage", type=int, help="models that draw in stages (StackGAN): the stage to write, 1 for the "
                        "coarsest (default: the last)")
    sample.add_argument("--temperature", type=float, default=1.0,
                        help="sequence models (SeqGAN): softmax temperature, below 1 for likelier tokens")
    sample.add_argument("--user", help="ranking models (IRGAN): the user id to recommend for (MovieLens: 1..943)")
    sample.add_argument("--out", type=Path, help="images: .png for a grid, .npy for a float32 array in [0, 1] (required); "
                        "ranked lists: .json, sequences: .txt (optional for both: printed otherwise)")

    evaluate = commands.add_parser("evaluate", help="print a checkpoint's quality metrics as JSON")
    evaluate.add_argument("--checkpoint", type=Path, required=True)
    evaluate.add_argument("--n", type=int, default=1000, help="samples to generate")
    evaluate.add_argument("--seed", type=int, default=0)
    evaluate.add_argument("--judge", type=Path, help="judge classifier (default: the shipped judge of the "
                                                      "checkpoint's dataset)")

    judge = commands.add_parser("train-judge", help="train a digit set's judge classifier used by `evaluate`")
    judge.add_argument("--out", type=Path, required=True)
    judge.add_argument("--dataset", choices=JUDGED_DATASETS, default=JUDGED_DATASETS[0],
                       help="digit set to learn (its held-out split gives the reported accuracy)")
    judge.add_argument("--epochs", type=int, default=40)
    judge.add_argument("--seed", type=int, default=0)
    judge.add_argument("--device", default="auto", help="auto, cpu, cuda or mps")

    translate = commands.add_parser(
        "translate", help="translate one image with a pix2pix/CycleGAN checkpoint (.safetensors) or an official .pth")
    translate.add_argument("--checkpoint", type=Path, required=True,
                           help="GAN Studio pix2pix/CycleGAN .safetensors, or an official generator state_dict (.pth)")
    translate.add_argument("--input", type=Path, required=True, help="image to translate")
    translate.add_argument("--out", type=Path, required=True, help="where to write the result (.png or .jpg)")
    translate.add_argument("--direction", choices=("AtoB", "BtoA"), default="AtoB",
                           help="translation direction; BtoA needs a CycleGAN checkpoint (it holds both generators)")
    translate.add_argument("--half", choices=("left", "right"),
                           help="the input is a pix2pix A|B pair image: translate only its left (A) or right (B) half")
    translate.add_argument("--dropout-seed", type=int,
                           help="pix2pix: keep dropout on at test time, as the paper does for noise, drawn from this seed "
                                "(default: off, the same picture every time)")
    return parser


def _train(args: argparse.Namespace) -> int:
    from gan_core.registry import get_variant
    from gan_core.training import train
    from gan_core.training.distributed import World, check_can_distribute, torchrun_world_size
    from gan_core.training.preflight import check_before_start
    from gan_core.training.progress import ProgressBar
    from gan_core.training.run_files import RunFiles

    user: dict = {}
    if args.config:
        try:
            user.update(json.loads(args.config.read_text()))
        except (OSError, json.JSONDecodeError) as error:
            raise ConfigError(f"cannot read config file {args.config}: {error}") from None
    if not isinstance(user, dict):
        raise ConfigError(f"config file {args.config} must hold a JSON object of settings")
    for name in train_flags():
        value = getattr(args, name)
        if value is not None:
            user[name] = value
    if args.lr is not None:
        user["lr_g"] = user["lr_d"] = args.lr
    if args.resume:
        saved = RunFiles(args.resume).read_json(RunFiles(args.resume).config)
        if saved is None:
            raise ConfigError(f"{args.resume} is not a run folder (no config.json)")
        config = saved_config_from_dict(saved)
        config = get_variant(config.variant).with_settings(config, **user)
        run_dir, resume = args.resume, True
    else:
        if not args.variant or not args.out:
            raise ConfigError("train needs --variant and --out (or --resume RUN_DIR)")
        spec = get_variant(user.pop("variant", args.variant))
        config = spec.default_config(**user)
        check_before_start(config)
        run_dir, resume = args.out, False
    # Under torchrun every rank runs this same command; rank 0 alone shows progress and prints the result.
    check_can_distribute(get_variant(config.variant), torchrun_world_size())
    world = World.from_environment(config.device)
    try:
        callbacks = [] if args.quiet or not world.is_main else [ProgressBar()]
        result = train(config, run_dir, callbacks, resume=resume, world=world)
    finally:
        world.close()
    if world.is_main:
        print(json.dumps({"status": result.status, "step": result.step, "message": result.message,
                          "run_dir": str(run_dir)}))
    return 0 if result.status == "finished" else 1


def _sample(args: argparse.Namespace) -> int:
    """Write what a checkpoint draws, in the way its variant's kind of sample is written."""
    from gan_core.checkpoints import read_metadata
    from gan_core.registry import get_variant

    kind = get_variant(read_metadata(args.checkpoint)["variant"]).sample_kind
    writers = {"image_grid": _sample_images, "ranked_lists": _sample_ranked_list, "text_lines": _sample_lines}
    if kind.name not in writers:
        raise ConfigError(f"{args.checkpoint.name} draws {kind.description}; "
                          + ("use `translate` with a picture instead" if kind.name == "image_pairs" else
                             "`sample` cannot write that kind yet"))
    return writers[kind.name](args)


def _sample_images(args: argparse.Namespace) -> int:
    from gan_core.checkpoints import load_generator
    from gan_core.data.types import from_unit_range
    from gan_core.grids import save_png, to_pil
    from gan_core.inference import generate

    continuous = None
    if args.continuous:
        try:
            continuous = [float(v) for v in args.continuous.split(",")]
        except ValueError:
            raise ConfigError(f"--continuous must be comma-separated numbers; got {args.continuous!r}") from None
    if args.out is None:
        raise ConfigError("sampling images needs --out (.png for a grid, .npy for an array)")
    if args.n is None:
        args.n = 64
    suffix = args.out.suffix.lower()
    if suffix not in (".png", ".npy"):
        raise ConfigError(f"--out must end in .png or .npy; got {args.out.name}")
    model = load_generator(args.checkpoint)
    if args.caption is not None or args.stage is not None:
        from gan_core.text_to_image import generate_for_caption

        mixed = [flag for flag, value in (("--label", args.label), ("--category", args.category),
                                          ("--continuous", args.continuous), ("--truncation", args.truncation))
                 if value is not None]
        if mixed:
            raise ConfigError(f"--caption and --stage draw from a sentence; leave out {', '.join(mixed)}")
        images = generate_for_caption(model, args.n, args.seed, caption=args.caption, stage=args.stage)
    else:
        images = generate(model, args.n, args.seed, labels=args.label, category=args.category, continuous=continuous,
                          truncation=args.truncation)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".png":
        save_png(to_pil(images, columns=min(args.n, 10)), args.out)
    else:
        np.save(args.out, from_unit_range(images).numpy().astype(np.float32))
    print(f"wrote {args.n} samples to {args.out}")
    return 0


def _sample_ranked_list(args: argparse.Namespace) -> int:
    """One user's top-n items (rank, id, title, score) printed as text, or written as JSON with --out."""
    from gan_core.retrieval.recommender import load_recommender

    if args.user is None:
        raise ConfigError(f"{args.checkpoint.name} ranks items for a user: name one with --user")
    if args.out is not None and args.out.suffix.lower() != ".json":
        raise ConfigError(f"--out must end in .json for a ranked list; got {args.out.name}")
    recommender = load_recommender(args.checkpoint)
    items = recommender.top(args.user, 10 if args.n is None else args.n)
    if args.out is None:
        for item in items:
            print(f"{item.rank:3d}  {item.item_id:>5s}  {item.title}  ({item.score:.4f})")
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"user": str(args.user), "items": [item.to_dict() for item in items]}, indent=1,
                                   ensure_ascii=False), encoding="utf-8")
    print(f"wrote user {args.user}'s top {len(items)} to {args.out}")
    return 0


def _sample_lines(args: argparse.Namespace) -> int:
    """One sequence per line (token ids separated by spaces for oracle models), printed or written with --out."""
    from gan_core.sequence.sampling import load_sequence_model

    if args.out is not None and args.out.suffix.lower() != ".txt":
        raise ConfigError(f"--out must end in .txt for sequences; got {args.out.name}")
    lines = load_sequence_model(args.checkpoint).sample_lines(16 if args.n is None else args.n, args.seed, args.temperature)
    text = "".join(f"{line}\n" for line in lines)
    if args.out is None:
        print(text, end="")
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {len(lines)} sequences to {args.out}")
    return 0


def _translate(args: argparse.Namespace) -> int:
    from gan_core.translation import aligned_half, load_official_translator, load_translator, read_image, translate

    if args.out.suffix.lower() not in (".png", ".jpg", ".jpeg"):
        raise ConfigError(f"--out must end in .png, .jpg or .jpeg; got {args.out.name}")
    if args.checkpoint.suffix.lower() == ".safetensors":
        translator = load_translator(args.checkpoint)
    else:
        translator = load_official_translator(args.checkpoint, args.checkpoint.name)
    picture = read_image(args.input)
    if args.half:
        picture = aligned_half(picture, "AtoB" if args.half == "left" else "BtoA")
    if args.dropout_seed is not None and not translator.has_dropout:
        raise ConfigError(f"--dropout-seed needs a generator with dropout (pix2pix); {args.checkpoint.name} has none")
    result = translate(translator, picture, args.direction, max_side=max(picture.size), dropout_seed=args.dropout_seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    result.output.save(args.out)
    print(f"translated {args.input} ({args.direction}) with {translator.arch.describe()} to {args.out}")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from gan_core.metrics import evaluate_checkpoint

    print(json.dumps(evaluate_checkpoint(args.checkpoint, n=args.n, seed=args.seed, judge_path=args.judge), indent=2))
    return 0


def _train_judge(args: argparse.Namespace) -> int:
    from gan_core.device import resolve_device
    from gan_core.judge import train_and_save_judge

    device = resolve_device(args.device)
    judge = train_and_save_judge(args.out, epochs=args.epochs, seed=args.seed, device=str(device), dataset=args.dataset)
    print(json.dumps({"dataset": args.dataset, "held_out_accuracy": round(judge.held_out_accuracy, 4),
                      "out": str(args.out)}))
    return 0


def _variants(_: argparse.Namespace) -> int:
    from gan_core.registry import variants

    for name, spec in variants().items():
        print(f"{name:10s} {spec.summary}")
    return 0


def _datasets(_: argparse.Namespace) -> int:
    from gan_core.data.catalogue import describe_datasets

    sections = [("images (dcgan, cgan, ...)", describe_datasets(pairs=False)),
                ("image-to-image (pix2pix, cyclegan)", describe_datasets(pairs=True)),
                ("beyond images", {name: description for name, description in describe_datasets(kind=None).items()
                                   if name not in describe_datasets()})]
    for heading, datasets in sections:
        if datasets:
            print(heading)
        for name, description in datasets.items():
            print(f"  {name:23s} {description}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handlers = {"train": _train, "sample": _sample, "evaluate": _evaluate, "train-judge": _train_judge, "variants": _variants,
                "datasets": _datasets, "translate": _translate}
    try:
        return handlers[args.command](args)
    except GanStudioError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
