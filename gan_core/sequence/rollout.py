"""Monte Carlo roll-outs: how SeqGAN turns D's verdict on finished sequences into a reward for every token.

D only judges whole sequences, so the value of choosing y_t after y_1..y_{t-1} is estimated by completing
the prefix y_1..y_t N times with the roll-out policy and averaging D's probability of "real" over the
completions (the paper's eq. 4); the last token's reward is D's score of the sequence itself.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from gan_core.sequence.language_model import LstmLanguageModel

Scorer = Callable[[torch.Tensor], torch.Tensor]  # token ids (n, L) → probability of "real" (n,)


@torch.no_grad()
def rollout_rewards(policy: LstmLanguageModel, score: Scorer, sequences: torch.Tensor, rollout_count: int) -> torch.Tensor:
    """Rewards (n, L): column t-1 is the mean score over `rollout_count` completions of the prefix y_1..y_t.

    The prefix's LSTM state is computed once and the N completions of all n rows run as one batch per
    prefix length, so a roll-out costs sum_t (L - t) sampling steps of n·N rows and L-1 calls of `score`.
    """
    rows, length = sequences.shape
    rewards = torch.empty(rows, length, device=sequences.device)
    states = policy.prefix_states(sequences)
    for prefix_length in range(1, length):
        logits, (hidden, cell) = states[prefix_length]
        completed = policy.continue_from(
            sequences[:, :prefix_length].repeat(rollout_count, 1),
            logits.repeat(rollout_count, 1),
            (hidden.repeat(1, rollout_count, 1), cell.repeat(1, rollout_count, 1)),
        )
        rewards[:, prefix_length - 1] = score(completed).float().view(rollout_count, rows).mean(dim=0)
    rewards[:, length - 1] = score(sequences).float()
    return rewards


def policy_gradient_loss(generator: LstmLanguageModel, sequences: torch.Tensor, rewards: torch.Tensor) -> torch.Tensor:
    """REINFORCE without a baseline, as in the paper: -mean_t log G(y_t | y_<t) · Q(y_<t, y_t).

    Minimising it raises the probability of each sampled token in proportion to its reward. The reference
    code sums over the batch instead of averaging; under Adam only the scale differs.
    """
    return -(generator.token_log_probs(sequences) * rewards.detach()).mean()
