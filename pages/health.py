"""Proxy health: is the LiteLLM proxy up, how fast does it answer, and what to do when it is not.

Everything here is decided in gateway/health.py; this page only draws it.
"""

import time

import altair as alt
import pandas as pd
import streamlit as st

import gateway
from gateway import features, health
from gateway.store import Unavailable, get_store
from ui import pages
from ui.layout import page_setup
from ui.markdown import inline_code, plain

# Probe first: the probes are bounded (health.DEADLINE), and a proxy they find down is then not waited on again
# by the sidebar's model discovery, so the page renders within 5 s even when the proxy never answers.
first_report = health.run_probes(settings := gateway.load_settings())
settings, catalogue = page_setup(pages.HEALTH, settings, proxy_down=first_report.down)
store = get_store(settings)
HISTORY_SHOWN = 24 * 3600  # seconds of saved probe samples drawn

_BANNERS = {
    "healthy": (st.success, ":material/check_circle:"),
    "degraded": (st.warning, ":material/warning:"),
    "unreachable": (st.error, ":material/cloud_off:"),
    "not_configured": (st.info, ":material/settings:"),
}

_PROBE_COLOURS = ["#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e"]

st.title("Proxy health")
check_col, auto_col, every_col, _ = st.columns([2, 2, 3, 5], vertical_alignment="center")
check_col.button("Check now", icon=":material/refresh:", key="health_check_now")
auto_refresh = auto_col.toggle("Auto-refresh", value=True, key="health_auto_refresh",
                               help="Probe the proxy again every few seconds (cheap: no model is called).")
every = every_col.select_slider("Every", options=(5, 10, 30, 60), value=10, format_func=lambda s: f"{s} s",
                                key="health_every", disabled=not auto_refresh, label_visibility="collapsed")
st.session_state["_health_report"] = first_report  # the full run's probes; fragment reruns probe again


def draw_banner(report: health.HealthReport) -> None:
    show, icon = _BANNERS[report.overall]
    show(f"**{report.label}** · {plain(report.summary)}", icon=icon)


def draw_numbers(report: health.HealthReport) -> None:
    version, models, deployments, took = st.columns(4)
    version.metric("Proxy version", report.proxy_version or "unknown")
    models.metric("Models", "—" if report.model_count is None else report.model_count)
    deployments.metric("Deployments", "—" if report.deployment_count is None else report.deployment_count)
    took.metric("Checked in", f"{report.elapsed_ms:.0f} ms", help=f"Probes run at the same time; each gives up "
                f"after {health.PROBE_TIMEOUT:g} s, the whole check after {health.DEADLINE:g} s.")
    if missing := features.caption(features.lacking(catalogue, settings)):
        st.caption(f":material/info: {missing}")


def draw_probes(report: health.HealthReport) -> None:
    frame = health.probes_frame(report).set_index("Check")
    st.table(frame.style.format({"Latency (ms)": "{:.0f}"}, na_rep="—"))  # a small table: plain HTML, fast to draw


def draw_advice(advice: list[health.Advice]) -> None:
    for item in advice:
        with st.container(border=True):
            st.markdown(f"**{plain(item.problem)}**")
            st.markdown(item.fix)
            if item.curl:
                st.code(item.curl, language="bash", wrap_lines=True)


def draw_troubleshooting(report: health.HealthReport) -> None:
    advice = health.troubleshooting(report, settings)
    if advice:
        st.subheader("What to do")
    draw_advice(advice)
    if settings.litellm_usable:
        with st.expander("The same checks with curl", icon=":material/terminal:"):
            st.caption("The key is never shown: `export LITELLM_API_KEY=...` in your shell first.")
            st.code(health.curl_commands(settings), language="bash")


def draw_history() -> None:
    saved = store.probe_history(settings.litellm_base_url, since=time.time() - HISTORY_SHOWN)
    points = health.history_frame(settings.litellm_base_url, () if isinstance(saved, Unavailable) else saved)
    st.subheader("Latency history")
    if points.empty:
        st.caption("No probe has run yet.")
        return
    base = alt.Chart(points).encode(
        x=alt.X("Time:T", title=None, axis=alt.Axis(format="%H:%M:%S")),
        y=alt.Y("Latency (ms):Q", title="Latency (ms)"),
        color=alt.Color("Probe:N", scale=alt.Scale(range=_PROBE_COLOURS)),  # red is kept for failures
        tooltip=[alt.Tooltip("Time:T", format="%H:%M:%S"), "Probe", "Latency (ms)", "Result"],
    )
    lines = base.transform_filter(alt.datum.Result == "ok").mark_line(point=True)
    failures = base.transform_filter(alt.datum.Result == "failed").mark_point(shape="cross", size=90, filled=True) \
        .encode(color=alt.value("#d62728"))
    st.altair_chart(lines + failures, width="stretch")
    kept = ("This process's last checks only: the database cannot be read now." if isinstance(saved, Unavailable)
            else "Saved in the database for 7 days, shared by every app process; the last 24 hours are shown.")
    st.caption(f"{kept} Red crosses: failed probes, at the time they took to fail.")


def draw_configuration(report: health.HealthReport) -> None:
    st.subheader("Configuration")
    st.table(pd.DataFrame(health.configuration(settings, report), columns=("Setting", "Value")).set_index("Setting"))


@st.fragment(run_every=every if auto_refresh else None)
def live_health() -> None:
    report = st.session_state.pop("_health_report", None) or health.run_probes(settings)
    store.record_probes(health.samples(report))  # queued: never holds the page
    draw_banner(report)
    if report.probes:
        draw_numbers(report)
        draw_probes(report)
    draw_troubleshooting(report)
    if report.probes:
        draw_history()
    draw_configuration(report)
    st.caption(f"Last checked at {pd.Timestamp(report.checked_at, unit='s', tz='UTC'):%H:%M:%S} UTC.")


def check_deployments() -> None:
    with st.status("Calling every deployment through the proxy…", expanded=True) as status:
        request = inline_code(f"GET {settings.litellm_base_url}/health")
        st.write(f"{request} — this can take up to {settings.request_timeout:g} s.")
        result = health.deployment_health(settings)
        failed = result.error is not None or bool(result.unhealthy)
        outcome = "failed" if result.error else f"{len(result.healthy)} healthy, {len(result.unhealthy)} unhealthy"
        status.update(label=f"Per-model check: {outcome} · {result.elapsed_s:.1f} s",
                      state="error" if failed else "complete",
                      expanded=False)
    st.session_state["health_deployments"] = result


def draw_deployments(result: health.DeploymentHealth) -> None:
    if result.error is not None:
        st.error(f"The per-model check failed: {plain(result.error)}", icon=":material/error:")
    else:
        healthy_col, unhealthy_col, took_col = st.columns(3)
        healthy_col.metric("Healthy deployments", len(result.healthy))
        unhealthy_col.metric("Unhealthy deployments", len(result.unhealthy))
        took_col.metric("Took", f"{result.elapsed_s:.1f} s")
    draw_advice(health.deployment_troubleshooting(result, settings))
    if result.unhealthy:
        st.markdown("**Unhealthy**")
        st.dataframe(health.deployments_frame(result.unhealthy), hide_index=True, width="stretch")
    if result.healthy:
        st.markdown("**Healthy**")
        st.dataframe(health.deployments_frame(result.healthy).drop(columns=["HTTP", "Error"]), hide_index=True,
                     width="stretch")


live_health()

st.subheader("Per-model health")
st.caption("LiteLLM's `/health` sends a real request to **every deployment** behind the proxy: it is slow, and "
           "with paid providers **it costs money**. It only runs when you press the button.")
if st.button("Call every deployment (real requests, costs money)", icon=":material/paid:",
             key="health_deployments_run", disabled=not settings.litellm_usable):
    check_deployments()
if "health_deployments" in st.session_state:
    draw_deployments(st.session_state["health_deployments"])
