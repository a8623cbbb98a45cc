"""The home and catalogue pages, run with AppTest against the real proxy."""


from gateway import catalogue as gateway_catalogue
from gateway.discovery import discover
from gateway.errors import ProxyUnreachable
from tests.support.pages import open_page
from tests.support.text import shown


def test_home_shows_proxy_status_and_counts(app_env):
    at = open_page()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Proxy"] == "Healthy"
    assert int(metrics["Proxy models"]) >= 10


def test_catalogue_lists_every_proxy_model_once(app_env):
    at = open_page("pages/models.py")
    frame = at.dataframe[0].value
    names = list(frame["Model"])
    assert len(names) == len(set(names))
    assert "gpt-4o" in names and "gpt-4o (direct)" in names
    row = frame[frame["Model"] == "llama3-70b"].iloc[0]
    assert row["Context"] == 8192 and row["Context source"] == "estimated" and row["Provider"] == "groq"


def test_catalogue_filters_and_sorts(app_env):
    at = open_page("pages/models.py")
    at.multiselect(key="catalogue_providers").set_value(["anthropic"]).run()
    assert set(at.dataframe[0].value["Provider"]) == {"anthropic"}
    at.multiselect(key="catalogue_providers").set_value([]).run()
    at.text_input(key="catalogue_search").set_value("demo").run()
    assert sorted(at.dataframe[0].value["Model"]) == ["demo-fast", "demo-slow", "demo-vision"]
    at.text_input(key="catalogue_search").set_value("").run()
    at.selectbox(key="catalogue_min_context").set_value(1_000_000).run()
    assert all(at.dataframe[0].value["Context"] >= 1_000_000)
    at.selectbox(key="catalogue_min_context").set_value(0).run()
    at.selectbox(key="catalogue_sort").set_value("Largest context").run()
    contexts = list(at.dataframe[0].value["Context"].dropna())
    assert contexts == sorted(contexts, reverse=True)


def test_refresh_button_reports_the_count(app_env, settings):
    served = len(discover(settings).models)  # the model names the proxy serves (gpt-4o's two deployments: one)
    at = open_page("pages/models.py")
    at.sidebar.button[0].click().run()
    assert not at.exception
    assert [t.value for t in at.toast] == [f"Refreshed: {served} models from the proxy."]
    assert served == len(at.dataframe[0].value[at.dataframe[0].value["Route"] == "litellm"])


def test_proxy_down_after_a_good_list_keeps_it_with_a_warning(app_env, monkeypatch):
    """The real kill-and-refresh journey is in test_catalogue.py; here: what the page shows."""
    good = sorted(open_page("pages/models.py").dataframe[0].value["Model"])

    def down(settings):
        raise ProxyUnreachable("Could not connect to the server: connection refused")

    monkeypatch.setattr(gateway_catalogue, "discover", down)
    gateway_catalogue.clear_cache()
    at = open_page("pages/models.py")  # a new session
    assert sorted(at.dataframe[0].value["Model"]) == good
    assert any("last good list" in w.value for w in at.warning)


def test_litellm_off_lists_builtins_with_a_note(monkeypatch):
    for name in ("LITELLM_ENABLED", "LITELLM_BASE_URL", "LITELLM_API_KEY", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    at = open_page("pages/models.py")
    assert any("not configured" in i.value for i in at.info)
    assert set(at.dataframe[0].value["Route"]) == {"openai", "anthropic"}


def test_a_malformed_url_names_the_variable(monkeypatch):
    monkeypatch.setenv("LITELLM_ENABLED", "true")
    monkeypatch.setenv("LITELLM_BASE_URL", "not a url")
    at = open_page("pages/models.py")
    assert any("LITELLM_BASE_URL" in shown(e.value) for e in at.error)
    assert not at.exception
