"""SeqGAN engine: the oracle, roll-out rewards, REINFORCE's sign, D's CNN on any length, steps and exact resume."""

import copy

import pytest
import torch

from gan_core.errors import DatasetUnavailableError
from gan_core.sequence import (
    CnnDiscriminator,
    LstmLanguageModel,
    Oracle,
    OracleSettings,
    SeqGanModel,
    SeqGanSettings,
    TokenBatchSampler,
    make_oracle_data,
)
from gan_core.sequence.language_model import sample_tokens
from gan_core.sequence.metrics import distinct_ngram_share, heldout_nll, oracle_nll
from gan_core.sequence.poems import five_character_poems, load_poems, quatrains
from gan_core.sequence.rollout import policy_gradient_loss, rollout_rewards

VOCAB, LENGTH = 12, 6
TINY = SeqGanSettings(
    embedding_dim=8, hidden_dim=8, batch_size=8, pretrain_epochs=1, d_embedding_dim=8,
    d_filter_widths=(1, 2, 3, 8), d_filter_counts=(4, 4, 4, 4), d_pretrain_rounds=1, d_rounds_per_epoch=1,
    d_epochs_per_round=1, d_negatives=16, adversarial_epochs=3, rollout_count=4,
)
TINY_ORACLE = OracleSettings(vocab_size=VOCAB, sequence_length=LENGTH, embedding_dim=8, hidden_dim=8, seed=3,
                             train_count=32, heldout_count=16)


@pytest.fixture(autouse=True)
def _one_thread():
    """These networks are tiny: on a shared 2-core machine a second thread only adds synchronisation."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def tiny_model(seed: int = 0) -> SeqGanModel:
    torch.manual_seed(seed)
    model = SeqGanModel(TINY, VOCAB, LENGTH, train_size=TINY_ORACLE.train_count)
    model.attach_optimizers(model.configure_optimizers())
    return model


def test_oracle_is_deterministic_by_seed():
    first, second = make_oracle_data(TINY_ORACLE), make_oracle_data(TINY_ORACLE)
    assert torch.equal(first.train, second.train) and torch.equal(first.heldout, second.heldout)
    for a, b in zip(first.oracle.parameters(), second.oracle.parameters()):
        assert torch.equal(a, b)
    other = Oracle(OracleSettings(vocab_size=VOCAB, sequence_length=LENGTH, embedding_dim=8, hidden_dim=8, seed=4))
    assert not torch.equal(other.output.weight, first.oracle.output.weight)
    assert first.train.shape == (32, LENGTH) and int(first.train.max()) < VOCAB
    # N(0, 1) parameters, as in the paper: the sample std of all weights is near 1
    weights = torch.cat([p.flatten() for p in first.oracle.parameters()])
    assert 0.8 < float(weights.std()) < 1.2


def test_sampling_follows_the_probabilities_and_temperature_zero_is_greedy():
    logits = torch.log(torch.tensor([[0.1, 0.6, 0.3]])).expand(20_000, 3)
    counts = torch.bincount(sample_tokens(logits, generator=torch.Generator().manual_seed(0)), minlength=3) / 20_000
    assert torch.allclose(counts, torch.tensor([0.1, 0.6, 0.3]), atol=0.015)
    assert torch.equal(sample_tokens(logits[:5], temperature=0.0), torch.ones(5, dtype=torch.long))


def test_rollout_of_a_full_sequence_is_ds_score_of_it():
    torch.manual_seed(0)
    policy = LstmLanguageModel(VOCAB, LENGTH, 8, 8)
    discriminator = CnnDiscriminator(VOCAB, 8, (1, 2, 3, 8), (4, 4, 4, 4))
    sequences = policy.sample(5)
    rewards = rollout_rewards(policy, discriminator.real_probability, sequences, rollout_count=3)
    assert rewards.shape == (5, LENGTH)
    assert torch.allclose(rewards[:, -1], discriminator.real_probability(sequences))
    assert not torch.allclose(rewards[:, 0], rewards[:, -1])  # earlier columns come from completions, not the sequence


def test_reward_of_a_token_is_the_mean_over_its_rollouts():
    torch.manual_seed(1)
    policy = LstmLanguageModel(VOCAB, LENGTH, 8, 8)
    sequences = policy.sample(4)
    seen: list[torch.Tensor] = []

    def score(tokens: torch.Tensor) -> torch.Tensor:
        seen.append(tokens.clone())
        return (tokens * torch.arange(1, LENGTH + 1)).sum(1).remainder(11).float() / 10

    rollouts = 5
    rewards = rollout_rewards(policy, score, sequences, rollouts)
    assert len(seen) == LENGTH  # one call per prefix length 1..L-1, one for the sequences themselves
    for prefix_length in range(1, LENGTH):
        completed = seen[prefix_length - 1].view(rollouts, 4, LENGTH)
        assert torch.equal(completed[:, :, :prefix_length], sequences[:, :prefix_length].expand(rollouts, -1, -1))
        expected = score(completed.reshape(-1, LENGTH)).view(rollouts, 4).mean(0)
        assert torch.allclose(rewards[:, prefix_length - 1], expected)
    # the completions differ between roll-outs (they are samples, not copies)
    assert not all(torch.equal(seen[0].view(rollouts, 4, LENGTH)[0], seen[0].view(rollouts, 4, LENGTH)[k]) for k in range(1, rollouts))


def test_reinforce_raises_the_probability_of_a_rewarded_token():
    torch.manual_seed(2)
    generator = LstmLanguageModel(VOCAB, LENGTH, 8, 8)
    sequences = generator.sample(6)
    rewarded = int(sequences[0, 0])
    rewards = torch.zeros(6, LENGTH)
    rewards[:, 0] = (sequences[:, 0] == rewarded).float()  # only choosing `rewarded` first pays

    def first_token_probability() -> float:
        with torch.no_grad():
            return float(generator.token_log_probs(sequences[:1]).exp()[0, 0])

    before = first_token_probability()
    optimizer = torch.optim.SGD(generator.parameters(), lr=0.5)
    optimizer.zero_grad()
    policy_gradient_loss(generator, sequences, rewards).backward()
    optimizer.step()
    assert first_token_probability() > before + 1e-4


@pytest.mark.parametrize("length", [1, 2, 7, 8, 20, 25])
def test_discriminator_handles_every_length(length):
    torch.manual_seed(0)
    discriminator = CnnDiscriminator(VOCAB, 8, (1, 2, 3, 8), (4, 4, 4, 4))
    tokens = torch.randint(0, VOCAB, (3, length))
    logits = discriminator(tokens)
    assert logits.shape == (3,) and bool(torch.isfinite(logits).all())
    logits.sum().backward()  # trainable at that length too
    assert discriminator.embedding.weight.grad is not None


def test_a_few_steps_of_every_phase_give_finite_losses():
    data = make_oracle_data(TINY_ORACLE)
    model = tiny_model()
    batches = TokenBatchSampler(data.train, TINY.batch_size)
    phases = model.phase_steps()
    assert phases == {"pretrain_generator": 4, "pretrain_discriminator": 1, "adversarial": 3}
    logs = [model.train_step(batches) for _ in range(model.total_steps())]
    assert [int(log["phase"]) for log in logs] == [0] * 4 + [1] + [2] * 3
    for log in logs:
        assert set(log) == {"MLE_loss", "D_loss", "D_accuracy", "reward_mean", "PG_loss", "phase"}
        assert all(bool(torch.isfinite(value)) for value in log.values())
    assert 0.0 < float(logs[-1]["reward_mean"]) < 1.0 and float(logs[-1]["D_loss"]) > 0
    # the roll-out policy is a delayed copy: after adversarial updates it still differs from G
    assert not torch.equal(model.rollout_policy.output.weight, model.generator.output.weight)
    assert heldout_nll(model.generator, data.heldout) > 0 and oracle_nll(model.generator, data.oracle, 16) > 0


def test_rollout_policy_moves_by_the_update_rate():
    model = tiny_model()
    model.start_adversarial()
    old = model.rollout_policy.output.weight.clone()
    with torch.no_grad():
        model.generator.output.weight.add_(1.0)
    model.update_rollout_policy()
    assert torch.allclose(model.rollout_policy.output.weight, old + (1 - TINY.rollout_update_rate) * 1.0)


def snapshot(model: SeqGanModel) -> dict:
    return {
        "model": {k: v.clone() for k, v in model.state_dict().items()},
        "optimizers": {name: opt.state_dict() for name, opt in model.optimizers.items()},
        "rng": torch.get_rng_state(),
    }


@pytest.mark.parametrize("stop_after", [4, 6])  # at the start of D pre-training; inside the adversarial phase
def test_resume_gives_the_same_next_step(stop_after):
    data = make_oracle_data(TINY_ORACLE)
    model = tiny_model(seed=0)
    batches = TokenBatchSampler(data.train, TINY.batch_size)
    for _ in range(stop_after):
        model.train_step(batches)
    saved = copy.deepcopy(snapshot(model))
    continued = [model.train_step(batches) for _ in range(2)]

    resumed = tiny_model(seed=99)  # different initial weights: everything must come from the saved state
    resumed.load_state_dict(saved["model"])
    for name, optimizer in resumed.optimizers.items():
        optimizer.load_state_dict(saved["optimizers"][name])
    torch.set_rng_state(saved["rng"])
    again = [resumed.train_step(batches) for _ in range(2)]
    for first, second in zip(continued, again):
        for name in first:
            assert torch.equal(first[name], second[name]), name
    for (name, a), b in zip(model.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(a, b), name


def test_preview_lines_leave_the_training_stream_alone():
    model = tiny_model()
    state = torch.get_rng_state()
    lines = model.preview_lines(4)
    assert torch.equal(torch.get_rng_state(), state)
    assert len(lines) == 4 and all(len(line.split()) == LENGTH for line in lines)
    assert model.preview_lines(4) == lines  # fixed seed: comparable from one preview to the next
    assert model.preview_lines(2, decode=lambda tokens: ["x" * tokens.shape[1]] * tokens.shape[0]) == ["x" * LENGTH] * 2


def test_distinct_ngram_share():
    repeated = torch.tensor([[1, 2, 1, 2], [1, 2, 1, 2]])
    assert distinct_ngram_share(repeated, 2) == pytest.approx(2 / 6)  # (1,2), (2,1) out of 6 bigrams
    assert distinct_ngram_share(torch.arange(8).view(2, 4), 2) == 1.0
    with pytest.raises(ValueError):
        distinct_ngram_share(repeated, 5)


def test_settings_reject_nonsense():
    with pytest.raises(ValueError, match="rollout_count"):
        SeqGanSettings(rollout_count=0)
    with pytest.raises(ValueError, match="same"):
        SeqGanSettings(d_filter_widths=(1, 2), d_filter_counts=(3,))


FORTUNE_TEXT = (
    "\x1b[32m《送别》\x1b[m\n\x1b[33m作者：王维\x1b[m\n下马饮君酒，问君何所之。\n君言不得意，归卧南山陲。\n但去莫复问，白云无尽时。\n%\n"
    "\x1b[32m《长诗》\x1b[m\n\x1b[33m作者：某\x1b[m\n七个字的一行诗，不是五言的诗句。\n%\n"
    "\x1b[32m《静夜思》\x1b[m\n\x1b[33m作者：李白\x1b[m\n床前明月光，疑是地上霜。\n举头望明月，低头思故乡。\n"
)


def test_poems_are_cut_into_quatrains_of_five_character_lines(tmp_path):
    poems = five_character_poems(FORTUNE_TEXT)
    assert poems[1] == ["床前明月光", "疑是地上霜", "举头望明月", "低头思故乡"]
    assert len(poems) == 2  # the seven-character poem is left out
    assert quatrains(poems[0]) == ["下马饮君酒问君何所之君言不得意归卧南山陲", "君言不得意归卧南山陲但去莫复问白云无尽时"]
    path = tmp_path / "poems"
    path.write_text(FORTUNE_TEXT, encoding="utf-8")
    corpus = load_poems(path, heldout_share=0.5)
    assert corpus.train.shape[1] == 20 and corpus.train.shape[0] + corpus.heldout.shape[0] == 3
    texts = corpus.vocabulary.decode(torch.cat([corpus.train, corpus.heldout]))
    assert "床前明月光疑是地上霜举头望明月低头思故乡" in texts
    with pytest.raises(ValueError, match="not in the vocabulary"):
        corpus.vocabulary.encode(["床前明月光疑是地上霜举头望明月低头思故X"])


def test_poem_corpus_problems_have_clear_messages(tmp_path):
    with pytest.raises(DatasetUnavailableError, match="not found"):
        load_poems(tmp_path / "missing")
    wrong_encoding = tmp_path / "gbk"
    wrong_encoding.write_bytes(FORTUNE_TEXT.encode("gb18030"))
    with pytest.raises(DatasetUnavailableError, match="not UTF-8.*iconv"):
        load_poems(wrong_encoding)
    empty = tmp_path / "empty"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(DatasetUnavailableError, match="holds 0 five-character poem"):
        load_poems(empty)


def adam_steps(optimizer: torch.optim.Optimizer) -> int:
    return max((int(state["step"]) for state in optimizer.state.values()), default=0)


@pytest.mark.parametrize("mle_epochs", [0, 2])
def test_an_adversarial_epoch_interleaves_as_many_mle_epochs_as_asked(mle_epochs):
    torch.manual_seed(0)
    model = SeqGanModel(TINY.with_changes(mle_epochs_per_epoch=mle_epochs), VOCAB, LENGTH, TINY_ORACLE.train_count)
    model.attach_optimizers(model.configure_optimizers())
    batches = TokenBatchSampler(make_oracle_data(TINY_ORACLE).train, TINY.batch_size)
    model.start_adversarial()
    measured = model.adversarial_epoch(batches)
    assert adam_steps(model.optimizers["generator_pg"]) == TINY.g_steps_per_epoch
    assert adam_steps(model.optimizers["generator_mle"]) == mle_epochs * model.batches_per_epoch == mle_epochs * 4
    assert torch.isfinite(measured["MLE_loss"])
