"""One real browser over the real server: start a job and watch its curves grow; move an InfoGAN slider and ψ on /style;
type a sentence on /text-to-image.

Runs Debian's chromium through Playwright (never a downloaded browser); the server and the browser come from
benchmarks/browser_session.py, shared with benchmarks/app_latency.py. Every wait is bounded and the server
and any training workers it started are always stopped.
"""

from __future__ import annotations

import importlib.util
import shutil
import time
from pathlib import Path

import pytest

from benchmarks import browser_session as session

CHROMIUM = session.CHROMIUM
TINY = {"width": 8, "image_size": 16, "batch_size": 16, "noise_dim": 8, "steps": 2, "log_every": 1,
        "sample_every": 2, "checkpoint_every": 2, "device": "cpu"}

TINY_TRANSLATOR = {"width": 8, "image_size": 32, "batch_size": 2, "steps": 1, "log_every": 1,
                   "sample_every": 10, "checkpoint_every": 10, "device": "cpu"}


def tiny_pairs():
    """An aligned 32×32 task (B is the negative of A): enough for a one-step pix2pix to exist."""
    import torch

    from gan_core.data.paired import make_paired_dataset

    a = torch.randint(0, 256, (4, 3, 36, 36), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    return make_paired_dataset("tiny", a, 255 - a, a[:2, :, :32, :32], 255 - a[:2, :, :32, :32], 32, aligned=True)


pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).is_file(), reason=f"{CHROMIUM} is missing: apt-get install -y chromium"),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed")


def wait_until(condition, timeout_s: float, what: str):
    try:
        return session.wait_until(condition, timeout_s, what)
    except TimeoutError as error:
        pytest.fail(str(error))


def wait_for_the_page_run_to_end(page, what: str, looks: int = 4) -> None:
    """Until Streamlit's "running" badge is absent at `looks` looks in a row (a quarter second apart): a page whose
    run has ended, not one whose run has yet to show the badge."""
    quiet: list[bool] = []
    wait_until(lambda: quiet.append(page.locator("[data-testid='stStatusWidget']").count() == 0)
               or quiet[-looks:] == [True] * looks, 60, what)


@pytest.fixture(scope="module")
def server(tmp_path_factory, digits16):
    from gan_core.registry import config_for
    from gan_core.training.trainer import Trainer

    checkpoints = tmp_path_factory.mktemp("checkpoints")
    # The shipped InfoGAN where there is one: a 2-step stand-in barely depends on its codes (its weights start
    # at N(0, 0.02)), so a slider move may not change a single grey level of its picture.
    shipped = session.REPO / "checkpoints" / "infogan-mnist.safetensors"
    if shipped.is_file():
        shutil.copy(shipped, checkpoints / "infogan-mnist.safetensors")
    else:
        run_dir = tmp_path_factory.mktemp("infogan")
        Trainer(config_for("infogan", **{**TINY, "steps": 40}), run_dir, dataset=digits16).run()
        shutil.copy(run_dir / "generator.safetensors", checkpoints / "infogan-mnist.safetensors")
    shipped_style = session.REPO / "checkpoints" / "stylegan-mnist.safetensors"
    if shipped_style.is_file():
        shutil.copy(shipped_style, checkpoints / "stylegan-mnist.safetensors")
    else:
        style_dir = tmp_path_factory.mktemp("stylegan")
        Trainer(config_for("stylegan", **{**TINY, "steps": 4}), style_dir, dataset=digits16).run()
        shutil.copy(style_dir / "generator.safetensors", checkpoints / "stylegan-mnist.safetensors")
    shipped_lapgan = session.REPO / "checkpoints" / "lapgan-mnist.safetensors"  # /conditional's only model here
    if shipped_lapgan.is_file():
        shutil.copy(shipped_lapgan, checkpoints / "lapgan-mnist.safetensors")
    else:
        lapgan_dir = tmp_path_factory.mktemp("lapgan")
        Trainer(config_for("lapgan", **TINY), lapgan_dir, dataset=digits16).run()
        shutil.copy(lapgan_dir / "generator.safetensors", checkpoints / "lapgan-mnist.safetensors")
    shipped_stack = session.REPO / "checkpoints" / "stackgan-mnist.safetensors"  # for /text-to-image
    if shipped_stack.is_file():
        shutil.copy(shipped_stack, checkpoints / "stackgan-mnist.safetensors")
    else:
        stack_dir = tmp_path_factory.mktemp("stackgan")
        Trainer(config_for("stackgan", **{**TINY, "steps": 4}, stage1_steps=2), stack_dir, dataset=digits16).run()
        shutil.copy(stack_dir / "generator.safetensors", checkpoints / "stackgan-mnist.safetensors")
    translator_dir = tmp_path_factory.mktemp("pix2pix")
    Trainer(config_for("pix2pix", **TINY_TRANSLATOR), translator_dir, dataset=tiny_pairs()).run()
    shutil.copy(translator_dir / "generator.safetensors", checkpoints / "pix2pix-tiny.safetensors")
    shutil.copy(session.REPO / "checkpoints" / "simgan-mnist.safetensors", checkpoints / "simgan-mnist.safetensors")
    # The shipped IRGAN with its curves, where the MovieLens files it reads are installed (the /recommend page).
    irgan = session.REPO / "checkpoints" / "irgan-ml100k.safetensors"
    if irgan.is_file() and importlib.util.find_spec("recbole") is not None:
        for path in (irgan, irgan.with_name("irgan-ml100k.metrics.jsonl")):
            shutil.copy(path, checkpoints / path.name)
    for path in (session.REPO / "checkpoints").glob("seqgan-*"):  # the shipped sequence models, for /sequences
        shutil.copy(path, checkpoints / path.name)
    runs = tmp_path_factory.mktemp("runs")
    with session.app_server(runs, runs.parent / "server.log", checkpoints=checkpoints) as app:
        yield app.url


@pytest.fixture(scope="module")
def browser():
    with session.chromium() as chromium:
        yield chromium


def test_training_job_draws_growing_curves(server, browser):
    page = browser.new_page()
    page.set_default_timeout(30_000)
    page.goto(f"{server}/train")
    for label, value in {"steps": 3000, "batch size": 16, "image size": 16, "log every": 5, "sample every": 100,
                         "width": 8, "noise dim": 8}.items():
        field = page.get_by_label(label, exact=True)
        if not field.is_visible():  # fields in collapsed expanders
            page.get_by_text("Networks" if label in ("width", "noise dim") else "Logging", exact=True).click()
        field.fill(str(value))
        field.press("Tab")
    page.get_by_role("button", name="Start training").click()
    page.get_by_text("Started job").wait_for(timeout=30_000)

    def jobs_header_in_view() -> bool:  # the new job's dashboard is brought into view, not left below the fold
        box = page.locator("#jobs").bounding_box()
        return box is not None and 0 <= box["y"] < page.viewport_size["height"] / 2

    wait_until(jobs_header_in_view, 30, "the page to scroll to the new job's dashboard")
    page.mouse.move(page.viewport_size["width"] * 0.6, page.viewport_size["height"] / 2)
    page.mouse.wheel(0, -5_000)  # the user scrolls back up to the form: the page stops pulling the dashboard up
    wait_until(lambda: not jobs_header_in_view(), 10, "the user's scroll up to take effect")
    page.wait_for_timeout(1_000)
    assert not jobs_header_in_view(), "the page scrolled back to the dashboard against the user's scroll"

    def points() -> int:  # trace arrays may come as numpy's typed-array form, decoded into `_inputArray`
        return page.evaluate(
            "() => Math.max(0, ...[...document.querySelectorAll('.js-plotly-plot')].map(plot => {"
            " const x = plot.data && plot.data[0] && plot.data[0].x;"
            " return x ? (x.length !== undefined ? x.length : (x._inputArray || []).length) : 0; }))"
        )

    first = wait_until(points, 90, "the loss chart to appear")
    wait_until(lambda: points() > first, 60, "the loss chart to grow")
    captions = page.locator("[data-testid='stImageCaption']")
    wait_until(lambda: any("live preview at step" in text for text in captions.all_text_contents()), 60,
               "the live preview (redrawn every second while the job trains)")
    page.close()


def test_enter_in_a_number_field_does_not_start_a_job(server, browser):
    page = browser.new_page()
    page.set_default_timeout(30_000)
    page.goto(f"{server}/train")
    steps = page.get_by_label("steps", exact=True)
    steps.fill("20")
    steps.press("Enter")
    page.wait_for_timeout(2_000)  # a submitted form says "Started job" within a few hundred milliseconds
    assert page.get_by_text("Started job").count() == 0
    assert page.get_by_label("steps", exact=True).input_value() == "20", "the typed value stays in the form"
    page.close()


@pytest.mark.parametrize("width", [1400, 1024])
def test_every_home_card_shows_its_whole_formula(server, browser, width):
    """No objective is wider than its card, on a wide screen or a laptop's beside the sidebar (KaTeX never wraps:
    a formula wider than its card was cut off behind a scroll bar at 1024 px), and no link is cut short.

    Measured until the layout settles (within 10 s of the page's last element): KaTeX's fonts and the sample grids
    arrive after the formulas, and a measure taken mid-way can see a transient overflow."""
    from gan_core.registry import variants

    page = browser.new_page(viewport={"width": width, "height": 1000})
    page.set_default_timeout(60_000)
    page.goto(server)
    links = page.locator("[data-testid='stPageLink-NavLink']")  # the cards' links come after their sample grids
    wait_until(lambda: page.locator(".katex-display").count() == len(variants())
               and links.count() >= 2 + len(variants()), 60, "every card's formula and links")

    def too_wide() -> dict:
        widths = page.evaluate(
            "() => [...document.querySelectorAll('.katex-display')].map(el => [el.clientWidth, el.scrollWidth,"
            " (() => { let card = el; while (card && !card.querySelector('h3')) card = card.parentElement;"
            " return card ? card.querySelector('h3').innerText : null; })()])")
        cut_links = page.evaluate(  # a page link keeps to one line and ends a label too long for it with "…"
            "() => [...document.querySelectorAll('[data-testid=\"stPageLink-NavLink\"]')].filter(link =>"
            " [link, ...link.querySelectorAll('*')].some(el => el.scrollWidth > el.clientWidth + 1))"
            ".map(link => link.innerText)")
        return {"formulas wider than their card (card, shown px, whole px)":
                [(title, shown, whole) for shown, whole, title in widths if whole > shown + 3],
                "page links cut short": cut_links}

    deadline = time.monotonic() + 10
    while any((found := too_wide()).values()) and time.monotonic() < deadline:
        page.wait_for_timeout(250)
    assert not any(found.values()), f"at {width} px: {found}"
    page.close()


def test_infogan_slider_changes_the_image(server, browser):
    page = browser.new_page()
    page.set_default_timeout(30_000)
    page.goto(f"{server}/infogan")
    image = page.locator("[data-testid='stImage'] img").first
    image.wait_for()
    before = image.get_attribute("src")
    slider = page.get_by_role("slider").first
    slider.focus()
    for _ in range(10):
        slider.press("ArrowRight")
    wait_until(lambda: image.get_attribute("src") != before, 30, "the image to change after moving the slider")
    page.close()


def test_style_page_redraws_the_mixing_grid_when_psi_moves(server, browser):
    page = browser.new_page()
    page.set_default_timeout(60_000)
    page.goto(f"{server}/style")
    grid = page.locator("[data-testid='stImage'] img").first  # the style-mixing grid
    grid.wait_for()
    page.get_by_text("Download the grid (PNG)").wait_for()
    before = grid.get_attribute("src")
    psi = page.get_by_role("slider").nth(0)  # the first slider of the page: truncation ψ (bands are a multiselect)
    psi.focus()
    for _ in range(6):
        psi.press("ArrowLeft")
    wait_until(lambda: grid.get_attribute("src") != before, 60, "the grid to be redrawn after moving ψ")
    page.close()


def test_conditional_shows_a_lapgan_pyramid_without_an_error(server, browser):
    page = browser.new_page()
    page.set_default_timeout(60_000)
    page.goto(f"{server}/conditional")
    images = page.locator("[data-testid='stImage'] img")
    images.first.wait_for()
    page.get_by_text("Download these rows (PNG)").wait_for()
    page.get_by_text("Download the interpolation (PNG)").wait_for()  # the page's last picture is drawn: count them all
    before = images.count()
    page.get_by_text("Show how one sample is built, coarse to fine").click()
    page.get_by_text("Download the pyramid (PNG)").wait_for()
    wait_until(lambda: images.count() == before + 1, 60, "the pyramid beside the label rows")
    assert page.locator("[data-testid='stException']").count() == 0
    page.close()


def test_text_to_image_draws_a_typed_sentence_at_both_stages(server, browser):
    page = browser.new_page()
    page.set_default_timeout(60_000)
    page.goto(f"{server}/text-to-image")
    images = page.locator("[data-testid='stImage'] img")
    images.first.wait_for()
    wait_until(lambda: images.count() == 2, 60, "a Stage-I and a Stage-II row for the first example")
    before = images.nth(1).get_attribute("src")
    box = page.get_by_role("textbox", name="Describe a digit")
    box.fill("a fluffy bold seven leaning right")
    box.press("Enter")
    page.get_by_text("(unknown)").wait_for()
    wait_until(lambda: images.count() == 2 and images.nth(1).get_attribute("src") != before, 60,
               "the Stage-II row to be redrawn for the typed sentence")
    page.close()


def test_translate_upload_shows_the_translation(server, browser, tmp_path):
    from PIL import Image

    picture = tmp_path / "upload.png"
    Image.new("RGB", (96, 48), (30, 160, 220)).save(picture)
    page = browser.new_page()
    page.set_default_timeout(60_000)
    page.goto(f"{server}/translate")
    images = page.locator("[data-testid='stImage'] img")
    images.first.wait_for()

    def sources() -> list[str]:
        return [images.nth(i).get_attribute("src") or "" for i in range(images.count())]

    before = sources()
    page.locator("[data-testid='stFileUploader'] input[type='file']").last.set_input_files(str(picture))
    after = wait_until(lambda: (now := sources()) != before and len(now) >= 2 and now, 60,
                       "the uploaded picture and its translation to be shown")
    assert len(after) >= 2
    page.get_by_text("Download the translation (PNG)").wait_for()
    page.close()


def test_a_too_large_upload_is_refused_in_words_and_no_translation_is_shown(server, browser, tmp_path):
    """25 MB: over our 20 MB limit, under Streamlit's cap, so the page (not a hover chip) says why."""
    picture = tmp_path / "huge.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(25 * 1024 * 1024))
    page = browser.new_page()
    page.set_default_timeout(60_000)
    page.goto(f"{server}/translate")
    page.locator("[data-testid='stImage'] img").first.wait_for()
    page.locator("[data-testid='stFileUploader'] input[type='file']").last.set_input_files(str(picture))
    page.get_by_text("huge.png was refused, so nothing was translated").wait_for()
    assert "too large" in page.locator("[data-testid='stAlert']").all_text_contents()[-1]
    assert page.locator("[data-testid='stImage']").count() == 0
    assert page.get_by_text("Download the translation (PNG)").count() == 0
    page.close()


def test_refine_shows_synthetic_and_refined_digits_and_follows_the_digit(server, browser):
    page = browser.new_page()
    page.set_default_timeout(60_000)
    page.goto(f"{server}/refine")
    images = page.locator("[data-testid='stImage'] img")
    wait_until(lambda: images.count() == 4, 90, "synthetic, refined, difference and the grid of pairs")
    before = images.first.get_attribute("src")
    slider = page.get_by_role("slider").first  # the digit
    slider.focus()
    slider.press("ArrowRight")
    wait_until(lambda: images.first.get_attribute("src") != before, 60, "another digit after moving the slider")
    page.get_by_text("Grid (PNG)").wait_for()
    page.close()


def test_playground_play_moves_the_points(server, browser):
    page = browser.new_page()
    page.set_default_timeout(60_000)
    page.goto(f"{server}/playground")
    board = page.locator("[data-testid='stImage'] img").first  # the board: D's surface, the points, the arrows
    board.wait_for()
    page.locator(".js-plotly-plot").first.wait_for()  # the loss curves
    before = board.get_attribute("src")
    page.get_by_role("button", name="Play").click()
    wait_until(lambda: board.get_attribute("src") != before, 60, "the board to be redrawn after pressing play")
    steps = page.locator("[data-testid='stMetricValue']").first
    wait_until(lambda: not steps.inner_text().startswith("0 "), 60, "the generator step count to grow")
    page.get_by_role("button", name="Pause").click()
    page.close()


def test_the_first_paint_of_a_fresh_server_shows_our_menu_not_file_names(browser, tmp_path):
    """With the pages in a `pages/` folder, the first visit showed "app, conditional, home, ..." for seconds."""
    with session.app_server(tmp_path / "runs", tmp_path / "server.log") as app:
        page = browser.new_page()
        page.goto(app.url, wait_until="commit")
        links = page.locator("[data-testid='stSidebarNav'] a")
        seen: list[list[str]] = []

        def our_menu() -> bool:
            texts = links.all_text_contents()
            if texts and texts not in seen:
                seen.append(texts)
            return any("InfoGAN codes" in text for text in texts)

        wait_until(our_menu, 90, "the sectioned navigation")
        page.close()
    file_names = {"app", "conditional", "home", "infogan", "playground", "train", "translate"}
    assert not any(file_names & {text.strip() for text in texts} for texts in seen), seen


def test_a_deep_link_on_a_fresh_server_runs_the_app_around_the_page(browser, tmp_path):
    """The first visitor of a freshly started server opens /train directly (a bookmark) and starts two jobs.

    While the pages lived in `pages/`, Streamlit offered them as legacy pages without app.py around them until app.py
    had run once; then the jobs were stored without a session (GAN_STUDIO_JOBS_PER_SESSION did not apply) and the
    sidebar was not ours.
    """
    import re

    from gan_core.training.jobs import JobManager

    runs = tmp_path / "runs"
    env = {"GAN_STUDIO_JOBS_PER_SESSION": "1", "GAN_STUDIO_MAX_JOBS": "0"}  # queue only: no worker starts
    with session.app_server(runs, tmp_path / "server.log", env=env) as app:
        page = browser.new_page()
        page.set_default_timeout(60_000)
        page.goto(f"{app.url}/train")
        start = page.get_by_role("button", name="Start training")
        start.wait_for()
        steps = page.get_by_label("steps", exact=True)
        steps.fill("2")
        steps.press("Tab")
        start.click()
        page.get_by_text(re.compile(r"^Started job \S+: its dashboard is below$")).wait_for()
        start.click()
        refused = page.get_by_text("already has 1 queued or running job")
        wait_until(lambda: refused.count() or len(JobManager(runs).list_jobs()) > 1, 60,
                   "the second job to be refused or queued")
        sessions = [job.session for job in JobManager(runs).list_jobs()]
        sidebar = page.locator("[data-testid='stSidebar']").inner_text()
        address = page.url
        page.close()
    assert address.endswith("/train"), f"the visitor was moved away from the link: {address}"
    assert sessions and None not in sessions, f"jobs were stored without the browser's session: {sessions}"
    assert len(sessions) == 1, "GAN_STUDIO_JOBS_PER_SESSION=1 let one session queue two jobs"
    assert "Running jobs:" in sidebar and "Train" in sidebar, f"the sidebar is not app.py's: {sidebar!r}"


def test_recommend_shows_both_top_lists(server, browser):
    if importlib.util.find_spec("recbole") is None:
        pytest.skip("MovieLens-100K is not installed (pip install --no-deps recbole==1.2.1)")
    page = browser.new_page()
    page.set_default_timeout(60_000)
    page.goto(f"{server}/recommend")
    page.get_by_text("IRGAN (generator)", exact=True).wait_for()
    page.get_by_text("BPR", exact=True).wait_for()
    wait_until(lambda: page.locator("[data-testid='stDataFrame']").count() >= 3, 60, "the liked, IRGAN and BPR tables")
    assert page.locator("[data-testid='stException']").count() == 0
    page.close()


def test_sequences_shows_two_models_samples(server, browser):
    if not list((session.REPO / "checkpoints").glob("seqgan-*.safetensors")):
        pytest.skip("no shipped sequence model")
    page = browser.new_page()
    page.set_default_timeout(60_000)
    page.goto(f"{server}/sequences")
    page.get_by_text("Samples per model").wait_for()
    wait_until(lambda: page.locator("[data-testid='stDownloadButton']").count() == 2, 60, "both models' samples")
    assert page.locator("[data-testid='stException']").count() == 0
    page.close()


def test_no_page_cuts_its_words_short_at_laptop_width(server, browser):
    """At 1024 px beside the sidebar no label, button or value of any page ends in an ellipsis: Streamlit cuts a
    page link, a button or a metric that does not fit its column with "…" (the Text-to-image examples, the
    playground's numbers and a home link were, before they were laid out to fit)."""
    from app_shell import PAGES

    cut = {}
    page = browser.new_page(viewport={"width": 1024, "height": 2000})
    page.set_default_timeout(60_000)
    for _, _, _, url_path in PAGES:
        page.goto(f"{server}/{url_path}")
        page.locator("[data-testid='stMain'] h1").first.wait_for()
        wait_for_the_page_run_to_end(page, f"/{url_path} to draw")
        texts = page.evaluate(
            "() => [...document.querySelectorAll('[data-testid=\"stMain\"] *')].filter(el =>"
            " getComputedStyle(el).textOverflow === 'ellipsis' && el.scrollWidth > el.clientWidth + 1"
            " && el.offsetParent !== null && el.innerText).map(el => el.innerText.slice(0, 60))")
        if texts:
            cut[f"/{url_path}"] = sorted(set(texts))
    page.close()
    assert not cut, f"words cut short at 1024 px: {cut}"
