"""Train: pick a variant and a dataset, set hyperparameters, start a background job, watch it learn."""

import time
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st
import streamlit.components.v1 as components

from app_shell import run_inside_app
from gan_core.app.charts import MetricHistory, differing_settings, display_indices, metric_groups, metrics_csv
from gan_core.app.deployment import DeploymentSettings
from gan_core.app.figures import curves_figure
from gan_core.app.jobs import (
    ACTIVE,
    TRANSLATION_LAYOUT,
    check_before_start,
    dataset_source,
    dataset_zip_limits,
    download_root,
    format_seconds,
    job_manager,
    live_preview_step,
    unpack_dataset_zip,
)
from gan_core.app.models import shipped_recipe
from gan_core.cli import train_arguments
from gan_core.errors import GanStudioError
from gan_core.registry import variants
from gan_core.training.distributed import torchrun_command
from gan_core.training.jobs import MAX_PROCESSES
from views.samples import show_sample

run_inside_app()

# "Start again from these settings": the job whose config the form starts from, and a counter that gives the
# form's widgets new keys, so they take those values (a widget keeps its own state while its key lives).
FORM_SOURCE, FORM_GENERATION = "train.form_source", "train.form_generation"
FORM_RECIPE = "train.form_recipe"  # a variant whose shipped model's settings the form starts from
FIELD_ERROR = "train.field_error"
SCROLL_TO_JOB = "train.scroll_to_job"  # set by Start: bring the new job's dashboard into view once
# Jobs started here redraw their curves and live preview this often, whatever their speed.
APP_REFRESH_SECONDS = 1.0


def field_input(rule, name: str, default, key_prefix: str):
    """One form widget per setting, typed by its rule; values are validated on submit."""
    key, label = f"{key_prefix}.{name}", rule.label_for(name)
    if rule.choices is not None:
        return st.selectbox(label, rule.choices, index=rule.choices.index(default), key=key, help=rule.help or None)
    if rule.kind is bool:
        return st.checkbox(label, value=bool(default), key=key, help=rule.help or None, wrap=True)  # never "…"
    if rule.kind is int:
        return st.number_input(label, value=int(default), step=1, key=key, help=f"{rule.describe()}. {rule.help}")
    return st.text_input(label, value=f"{default:g}", key=key, help=f"{rule.describe()}. {rule.help}")


def job_label(job) -> str:
    return f"{job.name} · {job.id}"


def job_examples(job) -> str:
    """What the job's speed counts: images, users or sequences (a job of a variant no longer installed: examples)."""
    return specs[job.variant].examples if job.variant in specs else "examples"


def act(action, job_id: str) -> None:
    """Button callback: run a job action; a user-facing error is shown on the next run."""
    try:
        action(job_id)
    except GanStudioError as error:
        st.session_state["job_error"] = str(error)


def delete_job(job_id: str) -> None:
    """Delete a job and say what went with it."""
    name = jobs.get(job_id).name
    jobs.delete(job_id)
    st.session_state["job_deleted"] = f"Deleted {name}: its run folder (checkpoints, samples, metrics, log) is gone."


def settings_of(job_id: str) -> None:
    """Button callback: the form is drawn afresh (new widget keys) from this job's settings."""
    job = jobs.get(job_id)
    st.session_state["variant"] = job.variant
    st.session_state[f"dataset.{job.variant}"] = job.config.dataset
    st.session_state[FORM_SOURCE] = job_id
    st.session_state.pop(FORM_RECIPE, None)
    st.session_state[FORM_GENERATION] = st.session_state.get(FORM_GENERATION, 0) + 1
    st.session_state["form_from_job"] = f"The form holds the settings of {job.name}: change what you like and press Start."


def shipped_settings(variant: str) -> None:
    """Button callback: the form is drawn afresh from the settings the variant's shipped model trained with."""
    recipe = shipped_recipe(variant)
    if recipe is None:  # the file went away since the page drew the button
        return
    st.session_state[f"dataset.{variant}"] = recipe.config.dataset
    st.session_state[FORM_RECIPE] = variant
    st.session_state.pop(FORM_SOURCE, None)
    st.session_state[FORM_GENERATION] = st.session_state.get(FORM_GENERATION, 0) + 1
    st.session_state["form_from_job"] = (f"The form holds the settings {recipe.name} trained with, its seed included, so "
                                         "Start trains that model again: change what you like and press Start.")


def resume_and_start(job_id: str) -> None:
    manager = job_manager()
    manager.resume(job_id)
    manager.refresh()


jobs = job_manager()
specs = variants()

st.title("Train a GAN")
if DeploymentSettings.from_env().public:
    st.info("Training is turned off on this public server (GAN_STUDIO_PUBLIC=1): each job takes the machine's CPU "
            "for minutes. Explore the shipped models on the other pages, or run GAN Studio on your own computer "
            "to train.")
    st.stop()

# --- a new job ---------------------------------------------------------------------------
# A Home card's "Train ..." link names its variant in the URL (?variant=wgan_gp); DCGAN otherwise.
asked = st.query_params.get("variant")
st.session_state.setdefault("variant", asked if asked in specs else "dcgan")
variant = st.selectbox("Variant", list(specs), format_func=lambda name: specs[name].title, key="variant")
spec = specs[variant]
st.caption(spec.summary)
datasets = spec.datasets()  # a translator trains on pairs, a sampler on images; pix2pix on aligned pairs only
st.session_state.setdefault(f"dataset.{variant}", spec.default_config().dataset)
dataset = st.selectbox("Dataset", list(datasets), format_func=lambda name: f"{name}: {datasets[name]}",
                       key=f"dataset.{variant}")
defaults = spec.default_config(dataset=dataset).replace(refresh_seconds=APP_REFRESH_SECONDS)
recipe = shipped_recipe(variant)
if recipe is not None and recipe.config.dataset == dataset and (beyond := recipe.settings_beyond(defaults)):
    note, use = st.columns([3, 1], vertical_alignment="center")
    note.caption(f"{recipe.note(defaults.steps)} It differs from the defaults in {', '.join(beyond)}.")
    use.button("Use its settings", key="form.shipped_recipe", on_click=shipped_settings, args=(variant,),
               help=f"fills the form with every setting {recipe.name} trained with, its seed included")
generation = st.session_state.get(FORM_GENERATION, 0)
source_id = st.session_state.get(FORM_SOURCE)  # set only by "Start again from these settings"
source_job = next((job for job in jobs.list_jobs() if job.id == source_id), None) if source_id else None
if source_job is not None and (source_job.variant, source_job.config.dataset) == (variant, dataset):
    defaults = source_job.config.replace(refresh_seconds=APP_REFRESH_SECONDS)
elif recipe is not None and st.session_state.get(FORM_RECIPE) == variant and recipe.config.dataset == dataset:
    # on this machine's device (the shipped runs name "cpu"), with the form's refresh
    defaults = recipe.config.replace(refresh_seconds=APP_REFRESH_SECONDS, device=defaults.device)
form_key = variant if generation == 0 else f"{variant}#{generation}"  # see FORM_GENERATION
# A field the dataset sets (gray2color: keep_lightness) gets a widget per dataset, so switching datasets shows its value.
set_by_dataset = spec.dataset_defaults(dataset)

source = dataset_source(dataset)
unpacked_root = None
if source == "folder":
    accepted = dataset_zip_limits(pairs=spec.image_to_image)
    archive = st.file_uploader("Upload a zip of your images, or name a folder below", type=["zip"],
                               key=f"dataset_zip.{dataset}", help=accepted)
    st.caption(f"Accepted: {accepted}. Uploads here are capped at {st.get_option('server.maxUploadSize')} MB; "
               "for a larger dataset, unpack it yourself and name its folder below.")
    if archive is not None:
        try:
            unpacked_root, summary = unpack_dataset_zip(archive.getvalue())
            st.success(f"{archive.name}: {summary}")
        except GanStudioError as error:
            st.error(f"{archive.name}: {error}")

if "form_from_job" in st.session_state:
    st.info(st.session_state.pop("form_from_job"))
# What the last press of Start refused, shown under the field it is about: (field, message).
error_field, error_message = st.session_state.pop(FIELD_ERROR, (None, None))
if error_field == "dataset":
    st.error(error_message)
with st.form("new_job", enter_to_submit=False):  # Enter in a number field must not start a job
    data_root = None  # an embedded dataset needs no folder
    if source == "folder":
        data_root = st.text_input("Image folder", value=str(unpacked_root or ""), key=f"data_root.{dataset}.{unpacked_root}",
                                  help=TRANSLATION_LAYOUT if spec.image_to_image else
                                  "a flat folder of images, or one subfolder per class")
        if error_field == "data_root":
            st.error(error_message)
    elif source == "download":
        data_root = st.text_input("Download folder (optional)", value="", placeholder=str(download_root()),
                                  key=f"data_root.{dataset}", help="where the dataset is kept after its first download; "
                                  f"empty: {download_root()} (or $GAN_STUDIO_DATA), shared with the command line")
    default_name = jobs.unused_name(f"{spec.name} on {dataset}")
    name = st.text_input("Job name", value=default_name, key=f"job_name.{default_name}")
    processes = st.number_input(
        "Processes / GPUs", min_value=1, max_value=MAX_PROCESSES, step=1, key=f"processes.{form_key}",
        value=source_job.processes if source_job is not None and source_job.variant == variant else 1,
        disabled=not spec.distributed,
        help=("1 trains as one process. More starts torchrun on this machine, one process per GPU (NCCL), or "
              "CPU processes (Gloo; no faster on a few cores, see BENCHMARKS.md). The batch size below is per "
              "process: N processes learn from N × batch size images per step." if spec.distributed else
              f"{spec.title} trains as one process only: {spec.single_process_reason}"))
    values = {}
    for group in spec.setting_groups:  # only the settings this variant reads
        with st.expander(group.title, expanded=group.title == "Basics" or error_field in group.fields):
            columns = st.columns(3)
            for index, field in enumerate(group.fields):
                with columns[index % 3]:
                    prefix = f"{form_key}.{dataset}" if field in set_by_dataset else form_key
                    values[field] = field_input(spec.rule(field), field, spec.value(defaults, field), prefix)
                    if field == error_field:
                        st.error(error_message)
    submitted = st.form_submit_button("Start training", type="primary")
    with st.expander("Several machines: the torchrun command for each"):
        st.caption("Each machine runs the command below with its own node rank; the first machine (node rank 0) "
                   "writes the run folder. Every machine needs GAN Studio and the dataset; resuming needs the run "
                   "folder on each (a shared file system). The processes above are per machine.")
        machine_columns = st.columns(2)
        nodes = machine_columns[0].number_input("Machines", min_value=1, max_value=64, value=2, step=1,
                                                key="train.nodes")
        master = machine_columns[1].text_input("First machine's address", value="FIRST_NODE_ADDRESS",
                                               key="train.master", help="its host name or IP, reachable from the others")
        show_commands = st.form_submit_button("Show the commands", disabled=not spec.distributed)

if show_commands:
    try:
        config = spec.with_settings(defaults, **values, data_root=data_root or None)
        arguments = train_arguments(config.replace(refresh_seconds=0.0), f"runs/{name.replace(' ', '_')}")
        for node in range(int(nodes)):
            st.code(torchrun_command(int(processes), arguments, nodes=int(nodes), node_rank=node, master=master),
                    language="bash")
        st.caption(f"{int(nodes) * int(processes)} processes in all, each on batch size {config.batch_size}: "
                   f"{int(nodes) * int(processes) * config.batch_size} images per step.")
    except GanStudioError as error:
        st.error(str(error))

if submitted:
    try:
        config = spec.with_settings(defaults, **values, data_root=data_root or None)
        check_before_start(config)  # a size the networks cannot take, a missing folder: said now, not by a failed job
        job_id = jobs.submit(config, name=name, session=st.session_state.get("session_id"), processes=int(processes))
        jobs.refresh()
        st.session_state["selected_job"] = job_id
        st.session_state[SCROLL_TO_JOB] = True
        st.success(f"Started job {job_id}: its dashboard is below")
    except GanStudioError as error:
        if error.field in (*values, "data_root", "dataset"):
            st.session_state[FIELD_ERROR] = (error.field, str(error))
            st.rerun()  # the form again, with the message under its field
        st.error(str(error))


# --- jobs and the live dashboard ---------------------------------------------------------
# Two fragments: the jobs table and its buttons refresh every TABLE_SECONDS; the selected job's curves and
# preview every LIVE_SECONDS, reading only the metric rows logged since the last refresh. Each refreshes only
# while something it shows can change (a queued or running job; else every IDLE_TABLE_SECONDS, or not at all):
# the table notices a change and reruns the page to switch. With the worker
# logging and redrawing its live preview every APP_REFRESH_SECONDS, both show up within about 2 s. The live view
# looks twice a second: at once a second, a picture that just missed a look waited for the next one (gaps up to
# 2.2 s; 1.7 s at twice a second, BENCHMARKS.md). The curves take new rows at most once per CURVE_SECONDS.
TABLE_SECONDS = 2.0  # the table, the buttons and the selected job's status line: one read of the jobs
IDLE_TABLE_SECONDS = 10.0  # no job queued or running: the table only has to notice jobs started elsewhere
LIVE_SECONDS = 0.5
# New metric rows are read, and so the charts change, at most about once a second, however often the job logs:
# the browser's cost is per chart that changes (a re-sent unchanged chart is cheap), and it shares the cores
# with the worker (BENCHMARKS.md, "Session 8"). 0.9 rather than 1.0, so that two looks 0.5 s apart are enough.
CURVE_SECONDS = 0.9
CURVES_READ = "train.curves_read"  # time.monotonic() of the last read of the running jobs' new rows
KEEP_IN_VIEW_SECONDS = 20.0  # how long a started job's dashboard is held in view while it fills in
LIVE = "live"  # the timeline's last stop: samples/live.png, redrawn while the job trains
RERUN_PAGE = "train.rerun_page"
REFRESHING = "train.refreshing"  # (table, live view) refresh at their active cadence, as this page run set them


def scroll_into_view(anchor: str, keep_seconds: float = KEEP_IN_VIEW_SECONDS) -> None:
    """Bring the element with id `anchor` (a header's anchor) to the top of the page and keep it there a while.

    Streamlit has no scrolling API; a zero-height component's script can reach the page it sits in (same origin).
    The component itself lives only until its fragment's next run (the jobs table redraws every TABLE_SECONDS), so it
    hands a small watcher to the page. The watcher looks four times a second for `keep_seconds`: the new job's
    dashboard below the header grows as its first curves and pictures arrive, and a header scrolled up before that
    was held low by the short page (a browser cannot scroll past the end), which left the dashboard below the fold
    on a busy machine. It stops at once when the user scrolls, types or clicks, so it never fights them."""
    components.html(f"""<script>
      function keepInView(anchor, milliseconds) {{
        const stopAt = Date.now() + milliseconds;
        const userEvents = ["wheel", "touchstart", "keydown", "mousedown"];
        let userActed = false;
        const onUser = () => {{ userActed = true; }};
        userEvents.forEach(type => window.addEventListener(type, onUser, {{passive: true, capture: true}}));
        const look = () => {{
          if (userActed || Date.now() > stopAt) {{
            userEvents.forEach(type => window.removeEventListener(type, onUser, {{capture: true}}));
            return;
          }}
          const target = document.getElementById(anchor);
          if (target) {{
            const top = target.getBoundingClientRect().top;
            if (top < 0 || top > window.innerHeight / 4) target.scrollIntoView({{behavior: "auto", block: "start"}});
          }}
          setTimeout(look, 250);
        }};
        look();
      }}
      const page = window.parent.document;
      const watcher = page.createElement("script");
      watcher.textContent = `(${{keepInView.toString()}})(${{JSON.stringify({anchor!r})}}, {int(keep_seconds * 1000)});`;
      page.head.appendChild(watcher);
      watcher.remove();  // the script has run; the watcher's timers live on in the page
    </script>""", height=0)


def rerun_page_next() -> None:
    """Widget callback: the selected job changes, so redraw the live part at once rather than on its next tick."""
    st.session_state[RERUN_PAGE] = True


def act_and_rerun(action, job_id: str) -> None:
    act(action, job_id)
    rerun_page_next()


def visible_jobs() -> list:
    mine_only = st.session_state.get("mine_only", False)
    return jobs.list_jobs(session=st.session_state.get("session_id") if mine_only else None)


def refreshing(all_jobs: list) -> tuple[bool, bool]:
    """Whether the table (any job) and the live view (the selected job or an overlaid one) can still change."""
    by_id = {job.id: job for job in all_jobs}
    selected = st.session_state.get("selected_job")
    if selected not in by_id and all_jobs:
        selected = all_jobs[0].id  # what the jobs table is about to select
    shown = [selected, *st.session_state.get("compare", [])]
    return (any(job.status in ACTIVE for job in all_jobs),
            any(by_id[job_id].status in ACTIVE for job_id in shown if job_id in by_id))


def jobs_panel() -> None:
    jobs.refresh()
    st.header("Jobs", anchor="jobs")
    if st.session_state.pop(SCROLL_TO_JOB, False):
        scroll_into_view("jobs")
    st.toggle("Only this session's jobs", key="mine_only")
    if "job_deleted" in st.session_state:
        st.success(st.session_state.pop("job_deleted"))
    all_jobs = visible_jobs()
    if not all_jobs:
        st.info("No training jobs yet: start one above.")
        return
    st.dataframe(
        [{"name": job.name, "variant": job.variant, "status": job.status, "progress": job.progress,
          "step": f"{job.step}/{job.total_steps}",
          "processes": job.processes,
          "speed": "—" if job.images_per_s is None else f"{job.images_per_s:,.0f} {job_examples(job)}/s",
          "ETA": format_seconds(job.eta_s) if job.status == "running" else "—", "message": job.message}
         for job in all_jobs],
        column_config={"progress": st.column_config.ProgressColumn("progress", min_value=0.0, max_value=1.0),
                       "speed": st.column_config.TextColumn("speed", help="real examples (images, users, sequences) "
                                                                          "the job learns from a second")},
        hide_index=True,
    )
    by_id = {job.id: job for job in all_jobs}
    if st.session_state.get("selected_job") not in by_id:
        st.session_state["selected_job"] = all_jobs[0].id
    job = by_id[st.selectbox("Job", list(by_id), format_func=lambda job_id: job_label(by_id[job_id]),
                             key="selected_job", on_change=rerun_page_next)]

    actions = st.container(horizontal=True)  # buttons as wide as their words: four equal columns cut one short
    actions.button("Cancel", key="job.cancel", on_click=act, args=(jobs.cancel, job.id),
                   disabled=job.status not in ("queued", "running"))
    actions.button("Resume", key="job.resume", on_click=act, args=(resume_and_start, job.id),
                   disabled=not jobs.can_resume(job))
    actions.button("Start again from these settings", key="job.again", on_click=settings_of, args=(job.id,),
                   help="fills the form above with this job's settings")
    with actions.popover("Delete…", disabled=job.status == "running"):
        st.write(f"Delete **{job.name}**: its checkpoints, samples, metrics and log? This cannot be undone.")
        st.button("Delete this job", key="job.delete", type="primary", on_click=act_and_rerun,
                  args=(delete_job, job.id))
    if "job_error" in st.session_state:
        st.error(st.session_state.pop("job_error"))
    job_status(job)

    log = jobs.log_tail(job.id, lines=30)
    if job.status == "running" and job.step == 0 and log:  # loading: a download's progress bar is the news
        st.caption(f"Latest output: {log.splitlines()[-1]}")
    with st.expander("Log: what the job's process printed (downloads, warnings, errors)"):
        st.code(log or "nothing yet", language=None)
    generator = jobs.generator_path(job.id)
    if job.status not in ACTIVE and generator is not None:  # a cancelled job's last checkpoint too; read only on click
        actions.download_button("Download generator", generator.read_bytes, file_name=f"{job.id}.safetensors",
                                mime="application/octet-stream")
    if st.session_state.pop(RERUN_PAGE, False) or refreshing(all_jobs) != st.session_state.get(REFRESHING):
        st.rerun()


def file_bytes(path: Path) -> tuple[bytes, float] | None:
    """A picture's bytes and modification time, read again only when the file changed (files are replaced
    atomically, so a picture is never half-written)."""
    try:
        stat = path.stat()
    except OSError:
        return None
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    cached = st.session_state.get("train.picture")
    if cached is None or cached[0] != key:
        try:
            cached = (key, (path.read_bytes(), stat.st_mtime))
        except OSError:
            return None
        st.session_state["train.picture"] = cached
    return cached[1]


def live_step(files, drawn_at: float) -> int | None:
    """The step of the live preview drawn at `drawn_at`, looked up once per picture."""
    key = (str(files.root), drawn_at)
    cached = st.session_state.get("train.live_step")
    if cached is None or cached[0] != key or cached[1] is None:
        cached = (key, live_preview_step(files.metrics, drawn_at))
        st.session_state["train.live_step"] = cached
    return cached[1]


def show_preview(job) -> None:
    """The live preview while the job trains (or when it is newer than the last grid); the step grids behind it."""
    kind = specs[job.variant].sample_kind
    files = jobs.run_files(job)
    samples = files.sample_paths()
    try:
        live_time = files.live_sample.stat().st_mtime
        live = job.status in ("queued", "running") or not samples or live_time > samples[-1].stat().st_mtime
    except OSError:
        live = False
    options = [*range(len(samples)), *([LIVE] if live else [])]
    if not options:
        st.info("The first sample grid appears once the job has started.")
        return
    choice = options[-1]
    if len(options) > 1:
        choice = st.select_slider(
            "Timeline", options=options, value=choice, key=f"timeline.{job.id}.{len(samples)}.{live}",
            format_func=lambda i: LIVE if i == LIVE else samples[i].stem.removeprefix("step_").lstrip("0") or "0")
    picture = file_bytes(files.live_sample) if choice == LIVE else None
    if picture is not None:
        step = live_step(files, picture[1])
        caption = ("" if job.status in ("queued", "running") else "last ") + "live preview" + (
            f" at step {step}" if step is not None else "")
    elif samples:
        path = samples[-1] if choice == LIVE else samples[choice]
        picture, caption = file_bytes(path), f"samples at step {int(path.stem.removeprefix('step_'))}"
    if picture is None:
        st.info("The sample grid is being written; it appears on the next refresh.")
        return
    columns = specs[job.variant].preview_columns
    show_sample(kind, picture[0], caption + (f" · columns: {', '.join(columns)}" if columns else ""))
    st.download_button("Download this sample", picture[0], file_name=f"{job.id}-{caption.split()[-1]}{kind.suffix}",
                       mime=kind.mime, key="download.sample")


def chart_series(history: MetricHistory, name: str, smoothing: float):
    """(steps, smoothed values) of one series as arrays, thinned to what a chart can show."""
    keep = display_indices(len(history.values[name]))
    return (np.asarray(history.steps[name])[keep], np.asarray(history.smoothed(name, smoothing))[keep])


def show_curves(job, by_id: dict) -> None:
    controls = st.columns(2)
    smoothing = controls[0].slider("Smoothing", 0.0, 0.99, 0.6, key="smoothing")
    log_y = controls[1].toggle("Log scale", key="log_y")
    others = [other for other in by_id if other != job.id]
    # A row of its own: in a third of the panel the chips cut run names to "an o…".
    compare = st.multiselect("Overlay runs", others, format_func=lambda i: by_id[i].name, key="compare",
                             placeholder="Choose runs to draw on the same charts")
    shown = [job.id, *(other for other in compare if other in by_id)]
    if len(shown) > 1:
        differ = differing_settings({by_id[run_id].name: by_id[run_id].config for run_id in shown})
        if differ:
            st.caption("Settings that differ between the overlaid runs")
            st.dataframe(pd.DataFrame(differ).T.rename_axis("setting"))
    histories = st.session_state.setdefault("train.histories", {})
    for run_id in list(histories):
        if run_id not in shown:
            del histories[run_id]
    due = time.monotonic() - st.session_state.get(CURVES_READ, 0.0) >= CURVE_SECONDS
    for run_id in shown:  # a new or ended run is read at once; running ones once per CURVE_SECONDS
        if due or run_id not in histories or by_id[run_id].status not in ACTIVE:
            histories.setdefault(run_id, MetricHistory(run_id)).update(jobs, by_id[run_id])
    if due:
        st.session_state[CURVES_READ] = time.monotonic()
    names = sorted({name for run_id in shown for name in histories[run_id].names})
    if not histories[job.id].names:
        st.info("Curves appear after the first logged step.")
    else:
        st.download_button("Download metrics (CSV)", lambda: metrics_csv(jobs.metrics(job.id)),
                           file_name=f"{job.id}-metrics.csv", mime="text/csv", key="download.metrics")
    figures = st.session_state.setdefault("train.figures", {})
    job_spec = specs[job.variant]
    for title, series_names in metric_groups(names, job_spec.discriminator, job_spec.examples).items():
        log_scale = log_y and not title.startswith("Speed")
        key = (tuple((run_id, by_id[run_id].name, histories[run_id].version) for run_id in shown),
               tuple(series_names), smoothing, log_scale)
        if title not in figures or figures[title][0] != key:  # rebuilt only when its data or settings changed
            series = {}
            for run_id in shown:
                prefix = f"{by_id[run_id].name} · " if len(shown) > 1 else ""  # every run alike, or none
                for name in series_names:
                    if name in histories[run_id].values:
                        series[prefix + name] = chart_series(histories[run_id], name, smoothing)
            figures[title] = (key, curves_figure(title, series, log_scale))
        st.plotly_chart(figures[title][1], key=f"chart.{title}")


def job_status(job) -> None:
    """The selected job's state in words and a progress bar with its ETA, drawn from the same row as the table and
    the buttons above it (one read per refresh), so the parts of the dashboard never tell different stories."""
    # Training time as the trainer counts it (it carries over a resume); "—" while the data loads, rather than a
    # wall-clock figure that would drop when the first logged row replaced it.
    elapsed = "—" if job.elapsed_s is None else format_seconds(job.elapsed_s)
    eta = f" · about {format_seconds(job.eta_s)} left" if job.status == "running" and job.eta_s else ""
    st.progress(job.progress, text=f"**{job.status}** · step {job.step:,}/{job.total_steps:,}{eta} · "
                                   f"trained for {elapsed} · device {job.device or '—'} · {job.message}")
    if job.status in ("failed", "interrupted", "diverged"):
        st.error(f"{job.status}: {job.message or 'no message'}. The job's log (below) has the details.")


def live_panel() -> None:
    by_id = {job.id: job for job in visible_jobs()}
    job = by_id.get(st.session_state.get("selected_job"))
    if job is None:
        return
    left, right = st.columns([3, 2])
    with right:
        show_preview(job)
    with left:
        show_curves(job, by_id)


# Set before the fragments run, so that a page run agrees with itself and the table reruns the page only on a change.
table_active, live_active = st.session_state[REFRESHING] = refreshing(visible_jobs())
st.fragment(run_every=TABLE_SECONDS if table_active else IDLE_TABLE_SECONDS)(jobs_panel)()
st.fragment(run_every=LIVE_SECONDS if live_active else None)(live_panel)()
