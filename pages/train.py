"""Train: pick a variant and a dataset, set hyperparameters, start a background job, watch it learn."""

import dataclasses
import time

import plotly.graph_objects as go
import streamlit as st

from gan_core.app_support import (
    DeploymentSettings,
    all_variants,
    dataset_zip_limits,
    format_seconds,
    job_manager,
    metric_groups,
    read_png,
    smooth,
    unpack_dataset_zip,
)
from gan_core.config import FIELD_RULES, config_from_dict
from gan_core.data.base import describe_datasets
from gan_core.errors import GanStudioError

# The form's fields, in the order a person thinks about them; codes only for variants that have them.
BASIC_FIELDS = ("steps", "batch_size", "image_size", "seed", "device")
OPTIMISER_FIELDS = ("optimizer", "lr_g", "lr_d", "beta1", "beta2", "n_critic", "lr_decay_start")
OBJECTIVE_FIELDS = ("objective", "label_smoothing", "spectral_norm", "weight_clip", "gp_weight", "ema_decay")
NETWORK_FIELDS = ("noise_dim", "width")
CODE_FIELDS = ("categorical_codes", "continuous_codes", "info_weight")
BOOKKEEPING_FIELDS = ("log_every", "sample_every", "checkpoint_every", "refresh_seconds")
# Jobs started here redraw their curves and live preview this often, whatever their speed.
APP_REFRESH_SECONDS = 1.0


def field_input(name: str, default, key_prefix: str):
    """One form widget per config field, typed by its rule; values are validated on submit."""
    rule, key, label = FIELD_RULES[name], f"{key_prefix}.{name}", name.replace("_", " ")
    if rule.choices is not None:
        return st.selectbox(label, rule.choices, index=rule.choices.index(default), key=key, help=rule.help or None)
    if rule.kind is bool:
        return st.checkbox(label, value=bool(default), key=key, help=rule.help or None)
    if rule.kind is int:
        return st.number_input(label, value=int(default), step=1, key=key, help=f"{rule.describe()}. {rule.help}")
    return st.text_input(label, value=f"{default:g}", key=key, help=f"{rule.describe()}. {rule.help}")


def job_label(job) -> str:
    return f"{job.name} · {job.id}"


def act(action, job_id: str) -> None:
    """Button callback: run a job action; a user-facing error is shown on the next run."""
    try:
        action(job_id)
    except GanStudioError as error:
        st.session_state["job_error"] = str(error)


def resume_and_start(job_id: str) -> None:
    manager = job_manager()
    manager.resume(job_id)
    manager.refresh()


def curves_figure(title: str, series: dict[str, tuple[list[int], list[float]]], smoothing: float, log_y: bool):
    figure = go.Figure()
    for name, (steps, values) in series.items():
        figure.add_trace(go.Scatter(x=steps, y=smooth(values, smoothing), mode="lines", name=name))
    figure.update_layout(title=title, height=300, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                         xaxis_title="step", legend={"orientation": "h"})
    if log_y:
        figure.update_yaxes(type="log")
    return figure


jobs = job_manager()
specs = all_variants()
datasets = describe_datasets()

st.title("Train a GAN")
if DeploymentSettings.from_env().public:
    st.info("Training is turned off on this public server (GAN_STUDIO_PUBLIC=1): each job takes the machine's CPU "
            "for minutes. Explore the shipped models on the other pages, or run GAN Studio on your own computer "
            "to train.")
    st.stop()

# --- a new job ---------------------------------------------------------------------------
variant = st.selectbox("Variant", list(specs), index=list(specs).index("dcgan"),
                       format_func=lambda name: specs[name].title, key="variant")
spec = specs[variant]
st.caption(spec.summary)
defaults = spec.default_config().replace(refresh_seconds=APP_REFRESH_SECONDS)
dataset = st.selectbox("Dataset", list(datasets), index=list(datasets).index(defaults.dataset),
                       format_func=lambda name: f"{name}: {datasets[name]}", key=f"dataset.{variant}")

unpacked_root = None
if dataset == "folder":
    archive = st.file_uploader("Upload a zip of your images, or name a folder below", type=["zip"],
                               key="dataset_zip", help=dataset_zip_limits())
    st.caption(f"Accepted: {dataset_zip_limits()}. Uploads here are capped at {st.get_option('server.maxUploadSize')} MB; "
               "for a larger dataset, unpack it yourself and name its folder below.")
    if archive is not None:
        try:
            unpacked_root, summary = unpack_dataset_zip(archive.getvalue())
            st.success(f"{archive.name}: {summary}")
        except GanStudioError as error:
            st.error(f"{archive.name}: {error}")

with st.form("new_job"):
    data_root = st.text_input(
        "Image folder" if dataset == "folder" else "Download folder (optional)",
        value=str(unpacked_root) if unpacked_root else ("" if dataset == "folder" else "data"),
        key=f"data_root.{unpacked_root}",
        help="a flat folder of images, or one subfolder per class" if dataset == "folder" else None,
    )
    name = st.text_input("Job name", value=f"{spec.name} on {dataset}", key=f"{variant}.{dataset}.name")
    groups = [("Basics", BASIC_FIELDS), ("Optimiser", OPTIMISER_FIELDS), ("Objective", OBJECTIVE_FIELDS),
              ("Networks", NETWORK_FIELDS), ("Logging", BOOKKEEPING_FIELDS)]
    if spec.has_codes:
        groups.insert(4, ("Latent codes", CODE_FIELDS))
    values = {}
    for title, fields in groups:
        with st.expander(title, expanded=title == "Basics"):
            columns = st.columns(3)
            for index, field in enumerate(fields):
                with columns[index % 3]:
                    values[field] = field_input(field, getattr(defaults, field), variant)
    submitted = st.form_submit_button("Start training", type="primary")

if submitted:
    try:
        user = {**dataclasses.asdict(defaults), **values, "dataset": dataset, "data_root": data_root or None}
        job_id = jobs.submit(config_from_dict(user), name=name, session=st.session_state.get("session_id"))
        jobs.refresh()
        st.session_state["selected_job"] = job_id
        st.success(f"Started job {job_id}")
    except GanStudioError as error:
        st.error(str(error))


# --- jobs and the live dashboard ---------------------------------------------------------
@st.fragment(run_every=2)
def dashboard() -> None:
    jobs.refresh()
    st.header("Jobs")
    mine_only = st.toggle("Only this session's jobs", key="mine_only")
    all_jobs = jobs.list_jobs(session=st.session_state.get("session_id") if mine_only else None)
    if not all_jobs:
        st.info("No training jobs yet: start one above.")
        return
    st.dataframe(
        [{"name": job.name, "variant": job.variant, "status": job.status, "progress": job.progress,
          "step": f"{job.step}/{job.total_steps}", "images/s": job.images_per_s,
          "ETA": format_seconds(job.eta_s) if job.status == "running" else "—", "message": job.message}
         for job in all_jobs],
        column_config={"progress": st.column_config.ProgressColumn("progress", min_value=0.0, max_value=1.0),
                       "images/s": st.column_config.NumberColumn(format="%.0f")},
        hide_index=True,
    )
    by_id = {job.id: job for job in all_jobs}
    if st.session_state.get("selected_job") not in by_id:
        st.session_state["selected_job"] = all_jobs[0].id
    job = by_id[st.selectbox("Job", list(by_id), format_func=lambda job_id: job_label(by_id[job_id]),
                             key="selected_job")]

    actions = st.columns(4)
    actions[0].button("Cancel", key="job.cancel", on_click=act, args=(jobs.cancel, job.id),
                      disabled=job.status not in ("queued", "running"))
    actions[1].button("Resume", key="job.resume", on_click=act, args=(resume_and_start, job.id),
                      disabled=not jobs.can_resume(job))
    actions[2].button("Delete", key="job.delete", on_click=act, args=(jobs.delete, job.id),
                      disabled=job.status == "running")
    if "job_error" in st.session_state:
        st.error(st.session_state.pop("job_error"))
    generator = jobs.generator_path(job.id)
    if job.status == "finished" and generator is not None:
        actions[3].download_button("Download generator", generator.read_bytes(), file_name=f"{job.id}.safetensors",
                                   mime="application/octet-stream")

    elapsed = job.elapsed_s or ((job.finished or time.time()) - job.started if job.started else None)
    st.caption(f"{job.status} · step {job.step}/{job.total_steps} · elapsed {format_seconds(elapsed)} · "
               f"device {job.device or '—'} · {job.message}")
    if job.status in ("failed", "interrupted", "diverged"):
        st.code(jobs.log_tail(job.id, 30) or "(empty log)", language="text")

    left, right = st.columns([3, 2])
    with right:
        samples = jobs.sample_paths(job.id)
        if samples:
            index = len(samples) - 1
            if len(samples) > 1:
                index = st.select_slider("Timeline", options=list(range(len(samples))), value=index,
                                         format_func=lambda i: samples[i].stem.removeprefix("step_").lstrip("0") or "0",
                                         key=f"timeline.{job.id}.{len(samples)}")
            st.image(read_png(samples[index]), caption=f"samples at {samples[index].stem}", width="stretch")
        else:
            st.info("The first sample grid appears once the job has started.")
    with left:
        controls = st.columns(3)
        smoothing = controls[0].slider("Smoothing", 0.0, 0.99, 0.6, key="smoothing")
        log_y = controls[1].toggle("Log scale", key="log_y")
        others = [other for other in by_id if other != job.id]
        compare = controls[2].multiselect("Overlay runs", others, format_func=lambda i: by_id[i].name, key="compare")
        runs = {job.id: jobs.metrics(job.id), **{other: jobs.metrics(other) for other in compare}}
        names = sorted({name for rows in runs.values() for row in rows for name in row})
        if not runs[job.id]:
            st.info("Curves appear after the first logged step.")
        for title, series_names in metric_groups(names).items():
            series = {}
            for run_id, rows in runs.items():
                prefix = "" if run_id == job.id else f"{by_id[run_id].name} · "
                for name in series_names:
                    points = [(row["step"], row[name]) for row in rows if name in row]
                    if points:
                        series[prefix + name] = ([step for step, _ in points], [value for _, value in points])
            st.plotly_chart(curves_figure(title, series, smoothing, log_y and title != "Speed (images/s)"),
                            key=f"chart.{title}")


dashboard()
