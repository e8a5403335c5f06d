"""Ranking items for users: MovieLens-100K, ranking metrics, BPR and IRGAN (the engine of issue #23).

Separate from the image variants: a retrieval model's sample is a ranked list of items for a user,
not an image. `IrganModel` follows the same contract as `gan_core.variants.base.GanModel` (networks as
submodules, `configure_optimizers`, `train_step` returning named scalars) so the trainer can run it.
"""

from gan_core.retrieval.bpr import PairwiseSettings, train_pairwise
from gan_core.retrieval.irgan import IrganModel, IrganSettings
from gan_core.retrieval.metrics import ranking_metrics, top_k
from gan_core.retrieval.movielens import MovieLensUnavailableError, Ratings, load_movielens
from gan_core.retrieval.scorers import MatrixFactorization, popularity_scores
from gan_core.retrieval.split import RankingTask, evaluation_tasks

__all__ = [
    "IrganModel", "IrganSettings", "MatrixFactorization", "MovieLensUnavailableError", "PairwiseSettings",
    "RankingTask", "Ratings", "load_movielens", "popularity_scores", "ranking_metrics", "evaluation_tasks",
    "top_k", "train_pairwise",
]
