"""`make run` (scripts/run_stack.py): one command brings up the proxy and the app, and Ctrl-C takes both down."""

from __future__ import annotations

import os
import signal
import socket
import stat
from pathlib import Path

import httpx
import pytest
from dotenv import dotenv_values

from scripts.run_stack import choose_demo_port, ensure_master_key, parse_args, read_settings, resolve_ports
from scripts.services import app_healthy, demo_alive, port_in_use, proxy_alive
from tests.conftest import ROOT
from tests.support.stack import StackRun


@pytest.fixture
def stack_runs():
    runs: list[StackRun] = []
    yield runs
    for run in runs:
        run.kill()


@pytest.mark.proxy
def test_first_run_generates_a_key_starts_all_three_and_ctrl_c_stops_them(tmp_path, stack_runs):
    stack_runs.append(run := StackRun(tmp_path))

    url = run.wait_for_url()

    assert url == f"http://127.0.0.1:{run.app_port}"
    assert app_healthy(url)
    assert demo_alive(f"http://127.0.0.1:{run.demo_port}")
    assert f"Starting the demo models on http://127.0.0.1:{run.demo_port}/v1" in run.output
    key = dotenv_values(run.env_file)["LITELLM_MASTER_KEY"]
    assert key.startswith("sk-") and len(key) > 30
    assert stat.S_IMODE(run.env_file.stat().st_mode) == 0o600
    assert key not in run.output, "the key is printed masked, never in full"
    for prompt, answer in (("What is the capital of Japan?", "Tokyo."), ("What is 1234 + 5678?", "6912.")):
        reply = httpx.post(f"http://127.0.0.1:{run.proxy_port}/v1/chat/completions", timeout=30,
                           headers={"Authorization": f"Bearer {key}"},
                           json={"model": "demo-quick", "messages": [{"role": "user", "content": prompt}]})
        assert reply.status_code == 200, reply.text
        assert answer in reply.json()["choices"][0]["message"]["content"], "the demo upstream answered the prompt"
    (demo_pid,) = [pid for pid, cmd in run.children().items() if "demo.upstream" in cmd]
    assert key.encode() not in Path(f"/proc/{demo_pid}/environ").read_bytes(), "the demo upstream needs no key"

    assert run.interrupt() == 0
    assert not port_in_use(run.app_port), "streamlit still listening"
    assert not port_in_use(run.proxy_port), "litellm still listening"
    assert not port_in_use(run.demo_port), "the demo upstream still listening"
    assert run.children() == {}


@pytest.mark.proxy
def test_a_proxy_already_answering_is_reused_and_left_running(tmp_path, stack_runs, proxy):
    stack_runs.append(run := StackRun(tmp_path, LITELLM_BASE_URL=proxy.base_url, LITELLM_API_KEY=proxy.master_key))

    url = run.wait_for_url(timeout=90)

    assert "Reusing the LiteLLM proxy already answering at " + proxy.base_url in run.output
    assert app_healthy(url)
    assert [cmd for cmd in run.children().values() if "litellm" in cmd] == [], "no second proxy"
    assert [cmd for cmd in run.children().values() if "demo.upstream" in cmd] == [], "the proxy has its own models"
    assert not port_in_use(run.proxy_port) and not port_in_use(run.demo_port)
    assert not run.env_file.exists(), "no key generated for a proxy that has its own"
    assert "refuses" not in run.output

    assert run.interrupt() == 0
    assert not port_in_use(run.app_port)
    assert proxy_alive(proxy.base_url), "a reused proxy is not ours to stop"


@pytest.mark.proxy
def test_when_the_app_dies_the_script_exits_non_zero_with_its_log(tmp_path, stack_runs, proxy):
    stack_runs.append(run := StackRun(tmp_path, LITELLM_BASE_URL=proxy.base_url, LITELLM_API_KEY=proxy.master_key))
    run.wait_for_url(timeout=90)
    (app_pid,) = [pid for pid, cmd in run.children().items() if "streamlit" in cmd]

    os.kill(app_pid, signal.SIGKILL)

    assert run.wait() == 1
    assert "streamlit exited with -9" in run.output


@pytest.mark.proxy
def test_a_key_the_proxy_refuses_is_reported_before_the_url(tmp_path, stack_runs, proxy):
    stack_runs.append(run := StackRun(tmp_path, LITELLM_BASE_URL=proxy.base_url, LITELLM_API_KEY="sk-not-this-one"))

    run.wait_for_url(timeout=90)

    assert "the proxy refuses the app's key sk-…-one" in run.output
    assert run.interrupt() == 0


@pytest.mark.proxy
def test_a_busy_app_port_is_reported_by_name(tmp_path, stack_runs, proxy):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        stack_runs.append(run := StackRun(tmp_path, LITELLM_BASE_URL=proxy.base_url,
                                          APP_PORT=str(squatter.getsockname()[1])))
        assert run.wait() != 0
    assert "already in use" in run.output and "APP_PORT" in run.output


@pytest.mark.processes  # `python -m scripts.run_stack`
def test_a_busy_demo_port_is_reported_by_name_before_anything_starts(tmp_path, stack_runs):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        stack_runs.append(run := StackRun(tmp_path, DEMO_PORT=str(squatter.getsockname()[1])))
        assert run.wait() != 0
    assert "already in use" in run.output and "DEMO_PORT" in run.output
    assert "Starting" not in run.output


def test_a_taken_default_demo_port_is_swapped_for_a_free_one_but_an_asked_for_one_is_not(capsys):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        args = parse_args([], environ={})
        resolve_ports(args, {})
        args.demo_port = taken  # as if 4010 were taken

        chosen = choose_demo_port(args)

        assert chosen != taken and not port_in_use(chosen)
        assert f"Port {taken} is taken: the demo models use {chosen} instead" in capsys.readouterr().out
        args = parse_args([], environ={})
        resolve_ports(args, {"DEMO_PORT": str(taken)})
        with pytest.raises(SystemExit, match=f"Port {taken} is already in use.*DEMO_PORT"):
            choose_demo_port(args)


def test_an_existing_master_key_is_kept(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("OPENAI_API_KEY=sk-openai\nLITELLM_MASTER_KEY=sk-mine")

    assert ensure_master_key(read_settings(env_file, environ={}), env_file) == "sk-mine"
    assert env_file.read_text() == "OPENAI_API_KEY=sk-openai\nLITELLM_MASTER_KEY=sk-mine"


def test_a_new_key_is_appended_on_its_own_line(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("OPENAI_API_KEY=sk-openai")  # no final newline

    key = ensure_master_key(read_settings(env_file, environ={}), env_file)

    assert dotenv_values(env_file) == {"OPENAI_API_KEY": "sk-openai", "LITELLM_MASTER_KEY": key}


def test_an_empty_key_line_from_the_example_is_filled_in_place(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text((ROOT / ".env.example").read_text())

    key = ensure_master_key(read_settings(env_file, environ={}), env_file)

    assert env_file.read_text().count("LITELLM_MASTER_KEY=") == 1
    assert dotenv_values(env_file)["LITELLM_MASTER_KEY"] == key
    assert dotenv_values(env_file)["PROXY_PORT"] == "4000"
    assert dotenv_values(env_file)["DEMO_PORT"] == "4010"


def test_the_environment_wins_over_the_env_file(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("LITELLM_MASTER_KEY=sk-from-file\nAPP_PORT=9000\nPROXY_PORT=9001\nDEMO_PORT=9003\n")

    settings = read_settings(env_file, environ={"LITELLM_MASTER_KEY": "sk-from-env", "APP_PORT": "",
                                                "DEMO_PORT": "9004"})
    args = parse_args(["--env-file", str(env_file), "--proxy-port", "9002"], environ={})
    resolve_ports(args, settings)

    assert settings["LITELLM_MASTER_KEY"] == "sk-from-env"
    assert args.app_port == 9000, "an empty variable counts as unset: the file's port is used"
    assert args.proxy_port == 9002, "a flag wins over both"
    assert args.demo_port == 9004


def test_the_demo_port_defaults_to_4010_and_must_be_a_number(tmp_path):
    args = parse_args([], environ={})
    resolve_ports(args, {})
    assert (args.proxy_port, args.app_port, args.demo_port) == (4000, 8501, 4010)
    with pytest.raises(SystemExit, match="DEMO_PORT must be port numbers"):
        resolve_ports(parse_args([], environ={}), {"DEMO_PORT": "four"})



def test_the_dashboards_database_url_never_reaches_the_proxy():
    """LiteLLM reads DATABASE_URL too, and will not start on a SQLite one (seen with `make run` and a .env that sets
    the dashboard's database)."""
    from scripts.services import proxy_environment

    env = proxy_environment("sk-master-0000000000", base={"DATABASE_URL": "sqlite:///data/dashboard.db", "A": "b"})
    assert "DATABASE_URL" not in env and env["A"] == "b" and env["LITELLM_MASTER_KEY"] == "sk-master-0000000000"
