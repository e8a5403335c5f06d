"""What StyleGAN's styles control, measured with the matching judge; and its Fréchet distance beside DCGAN's.

Four measurements of issue #19 on a StyleGAN checkpoint (the shipped one by default), all with the model's
stored noise, as the Style page draws by default:

1. Coarse styles carry the digit: mixtures whose coarse layers (4²-8²) take A's w and every other layer B's;
   the share the judge calls A's digit (A's digit as the judge reads A's own image).
2. Fine styles change the stroke, not the digit: only the finest layers (32²) from B; the share that keeps A's
   digit, and whether the ink mass (mean brightness: thicker or longer strokes hold more ink) moves from A's
   towards B's: the share of pairs that move towards B, and the median fraction of the A→B gap covered.
   Beside the overall share: the pairs whose digits differ, and those whose A the judge is sure of (p ≥ 0.9).
   Every other band split is measured too, for comparison.
3. The truncation curve: ψ from 1 to 0, the judge's mean confidence, the confident share, the intra-class
   diversity (generated over real), the smallest class share and the Fréchet distance.
4. Fréchet distance in judge features against the shipped DCGAN on the same held-out digits, with the same
   number of samples, over several sampling seeds (median reported).

    python -m benchmarks.stylegan_styles      # checkpoints/stylegan-mnist: 1,000 pairs, 500 samples per ψ
    python -m benchmarks.stylegan_styles --pairs 200 --checkpoint runs/x/generator.safetensors
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch

from gan_core.checkpoints import load_generator
from gan_core.judge import load_judge
from gan_core.metrics import (
    DigitsReference,
    class_coverage,
    confident_share,
    evaluate_generator,
    frechet_distance,
    intra_class_diversity,
)
from gan_core.nets.style import broadcast, style_bands
from gan_core.styles import StyleLayers, mapped, mix, require_style_generator, synthesize

REPO = Path(__file__).resolve().parents[1]
BATCH = 250
PSIS = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0)
SPLITS = {  # name → the bands that take B's w
    "coarse from A (middle + fine from B)": ("middle", "fine"),
    "fine from B": ("fine",),
    "middle from B": ("middle",),
    "coarse from B": ("coarse",),
}


def ink_mass(images: torch.Tensor) -> torch.Tensor:
    """Mean brightness of each image in [0, 1]: white strokes on black, so more or thicker strokes hold more."""
    return ((images.float() + 1) / 2).flatten(1).mean(1)


def latents(model, n: int, seed: int) -> torch.Tensor:
    return model.layout.sample_parts(n, torch.device("cpu"), torch.Generator().manual_seed(seed))["noise"]


def in_batches(function, *tensors: torch.Tensor) -> torch.Tensor:
    return torch.cat([function(*(t[start:start + BATCH] for t in tensors)) for start in range(0, tensors[0].shape[0], BATCH)])


def mixing_measurements(model, judge, pairs: int, seed: int) -> dict[str, dict]:
    generator = require_style_generator(model)
    bands = style_bands(model.dataset.image_shape[1])
    w_a = mapped(model, latents(model, pairs, seed))
    w_b = mapped(model, latents(model, pairs, seed + 1))
    whole = lambda w: synthesize(model, broadcast(w, generator.num_ws))  # noqa: E731
    images_a, images_b = in_batches(whole, w_a), in_batches(whole, w_b)
    digit_a, features_a = judge.predict(images_a)
    with torch.inference_mode():
        sure_of_a = judge.net.classifier(features_a.float()).softmax(1).max(1).values >= 0.9
    digit_b, _ = judge.predict(images_b)
    ink_a, ink_b = ink_mass(images_a), ink_mass(images_b)
    results = {}
    for name, from_b in SPLITS.items():
        layers = StyleLayers(frozenset(i for band in from_b for i in bands[band]), generator.num_ws)
        mixed = in_batches(lambda a, b, layers=layers: synthesize(model, mix(a, b, layers)), w_a, w_b)
        digit, _ = judge.predict(mixed)
        gap = ink_b - ink_a
        moved = ink_mass(mixed) - ink_a
        clear = gap.abs() > 0.01  # pairs whose inks differ by at least 1% of full brightness
        results[name] = {
            "layers_from_b": sorted(layers.from_b),
            "keeps_a_digit": round(float((digit == digit_a).float().mean()), 4),
            "keeps_a_digit_where_judge_is_sure_of_a": round(float((digit == digit_a)[sure_of_a].float().mean()), 4),
            "pairs_where_judge_is_sure_of_a": int(sure_of_a.sum()),
            "takes_b_digit": round(float((digit == digit_b).float().mean()), 4),
            "pairs_of_different_digits": int((digit_a != digit_b).sum()),
            "keeps_a_digit_where_a_and_b_differ": round(float((digit == digit_a)[digit_a != digit_b].float().mean()), 4),
            "ink_moves_towards_b": round(float(((moved * gap) > 0)[clear].float().mean()), 4),
            "median_share_of_ink_gap_covered": round(float((moved / gap)[clear].median()), 4),
            "pairs_with_an_ink_gap": int(clear.sum()),
        }
    return results


def truncation_curve(model, judge, reference: DigitsReference, n: int, seed: int) -> list[dict]:
    generator = require_style_generator(model)
    z = latents(model, n, seed)
    rows = []
    for psi in PSIS:
        images = in_batches(lambda part, psi=psi: synthesize(model, broadcast(mapped(model, part, psi), generator.num_ws)), z)
        predicted, features = judge.predict(images)
        with torch.inference_mode():
            confidence = judge.net.classifier(features.float()).softmax(1).max(1).values.mean()
        rows.append({
            "psi": psi,
            "mean_confidence": round(float(confidence), 4),
            "confident_share": round(confident_share(features, judge), 4),
            "intra_class_diversity": round(intra_class_diversity(features, predicted, reference.test_features,
                                                                 reference.test_labels), 4),
            "smallest_class_share": round(class_coverage(predicted)["min_share"], 4),
            "classes": int(predicted.unique().numel()),
            "frechet_distance": round(frechet_distance(features, reference.test_features), 3),
        })
    return rows


def frechet_side_by_side(paths: dict[str, Path], judge, reference: DigitsReference, n: int,
                         seeds: list[int]) -> dict[str, dict]:
    table = {}
    for name, path in paths.items():
        model = load_generator(path)
        runs = [evaluate_generator(model, judge, reference, n=n, seed=seed) for seed in seeds]
        table[name] = {
            "step": model.step,
            "frechet_by_seed": [run["frechet_distance"] for run in runs],
            "frechet_median": statistics.median(run["frechet_distance"] for run in runs),
            "diversity_median": statistics.median(run["intra_class_diversity"] for run in runs),
            "confident_share_median": statistics.median(run["confident_share"] for run in runs),
            "smallest_class_share_median": statistics.median(run["class_coverage"]["min_share"] for run in runs),
            "frechet_real_vs_real": runs[0]["frechet_real_vs_real"],
        }
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, default=REPO / "checkpoints" / "stylegan-mnist.safetensors")
    parser.add_argument("--baseline", type=Path, default=REPO / "checkpoints" / "dcgan-mnist.safetensors")
    parser.add_argument("--pairs", type=int, default=1000, help="A/B pairs for the mixing measurements")
    parser.add_argument("--samples", type=int, default=500, help="samples per ψ of the truncation curve")
    parser.add_argument("--frechet-samples", type=int, default=1000, help="samples per Fréchet measurement")
    parser.add_argument("--seed", type=int, default=0, help="sampling seed of the mixing and truncation measurements")
    parser.add_argument("--frechet-seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--json", type=Path, default=None,
                        help="where to write the results (default: benchmarks/results/stylegan_styles.json for the shipped "
                             "checkpoint, nowhere for any other, so measuring a run never overwrites the shipped record)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    started = time.perf_counter()
    model = load_generator(args.checkpoint)
    judge = load_judge(dataset=model.dataset.name)
    reference = DigitsReference(judge)
    result = {
        "checkpoint": args.checkpoint.name, "step": model.step, "judge_held_out_accuracy": judge.held_out_accuracy,
        "pairs": args.pairs, "samples": args.samples, "frechet_samples": args.frechet_samples, "seed": args.seed,
        "mixing": mixing_measurements(model, judge, args.pairs, args.seed),
        "truncation": truncation_curve(model, judge, reference, args.samples, args.seed),
        "frechet": frechet_side_by_side({args.checkpoint.stem: args.checkpoint, args.baseline.stem: args.baseline},
                                        judge, reference, args.frechet_samples, args.frechet_seeds),
    }
    result["frechet_seeds"] = args.frechet_seeds
    result["reference_digits"] = int(reference.test_features.shape[0])
    result["seconds"] = round(time.perf_counter() - started, 1)
    shipped = REPO / "checkpoints" / "stylegan-mnist.safetensors"
    target = args.json or (REPO / "benchmarks" / "results" / "stylegan_styles.json" if args.checkpoint.resolve() == shipped else None)
    if target is not None:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(result, indent=1))
        print(f"results: {target}")
    print_tables(result)


def print_tables(result: dict) -> None:
    print(f"\n{result['checkpoint']} (step {result['step']}), {result['pairs']} A/B pairs, sampling seed {result['seed']}, "
          "the model's stored noise\n")
    print("| layers from B | w indices | judge keeps A's digit | (where A, B differ) | (where the judge is sure of A) "
          "| takes B's digit | ink moves towards B | median share of ink gap |")
    print("|---|---|---|---|---|---|---|---|")
    for name, row in result["mixing"].items():
        print(f"| {name} | {row['layers_from_b']} | {row['keeps_a_digit']:.3f} | "
              f"{row['keeps_a_digit_where_a_and_b_differ']:.3f} ({row['pairs_of_different_digits']}) | "
              f"{row['keeps_a_digit_where_judge_is_sure_of_a']:.3f} ({row['pairs_where_judge_is_sure_of_a']}) | "
              f"{row['takes_b_digit']:.3f} | {row['ink_moves_towards_b']:.3f} ({row['pairs_with_an_ink_gap']}) | "
              f"{row['median_share_of_ink_gap_covered']:.3f} |")
    print(f"\nTruncation, {result['samples']} samples per ψ\n")
    print("| ψ | mean confidence | confident share | intra-class diversity | classes | smallest class share | Fréchet |")
    print("|---|---|---|---|---|---|---|")
    for row in result["truncation"]:
        print(f"| {row['psi']:.1f} | {row['mean_confidence']:.3f} | {row['confident_share']:.3f} | "
              f"{row['intra_class_diversity']:.3f} | {row['classes']} | {row['smallest_class_share']:.3f} | "
              f"{row['frechet_distance']:.2f} |")
    print(f"\nFréchet distance in judge features, {result['frechet_samples']} samples per sampling seed "
          f"{result['frechet_seeds']}, against the {result['reference_digits']} held-out digits\n")
    print("| model | step | Fréchet per seed | median | diversity (median) | confident share (median) "
          "| smallest class share (median) | real vs real |")
    print("|---|---|---|---|---|---|---|---|")
    for name, row in result["frechet"].items():
        print(f"| {name} | {row['step']} | {', '.join(f'{v:.2f}' for v in row['frechet_by_seed'])} | "
              f"**{row['frechet_median']:.2f}** | {row['diversity_median']:.3f} | {row['confident_share_median']:.3f} | "
              f"{row['smallest_class_share_median']:.3f} | {row['frechet_real_vs_real']:.2f} |")
    print(f"\n{result['seconds']} s")


if __name__ == "__main__":
    main()
