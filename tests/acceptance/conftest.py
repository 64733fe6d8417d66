"""Acceptance suite wiring: where the system is, fresh accounts, the catalog check and the run report.

Configuration (environment): BASE_URL (the ingress, default http://127.0.0.1:8080),
KAFKA_BOOTSTRAP_SERVERS (default 127.0.0.1:9092) and, where Kafka wants a login, KAFKA_SECURITY_PROTOCOL,
KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD; ORDER_MS_METRICS_URL and
DELIVERY_MS_METRICS_URL (each service's /metrics on its metrics port, which the ingress does not route; default
the local dev stack's); UAT_STAFF_USER / UAT_STAFF_PASSWORD (default the staff account the local stack
records: uat/staff.py), UAT_CLIENT_ADDRESSES (local source addresses the throttle cases use as other clients;
see uat/clients.py),
UAT_WAIT_SECONDS (how long asynchronous effects may take), and UAT_REPORT_DIR (default
$TEST_RESULTS/acceptance, with TEST_RESULTS defaulting to test-results/)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.acceptance.uat.catalog import CatalogError, case_id_of, check_tests, load_catalog
from tests.acceptance.uat.checks import CaseTexts
from tests.acceptance.uat.client import Api
from tests.acceptance.uat.events import TopicWatch
from tests.acceptance.uat.flows import Account, log_in
from tests.acceptance.uat.pool import AccountPool
from tests.acceptance.uat.report import Outcome, Run, write_html, write_markdown
from tests.acceptance.uat.staff import staff_credentials

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:8080").rstrip("/")
CATALOG = pytest.StashKey[dict]()
PROBLEMS = pytest.StashKey[list]()
OUTCOMES = pytest.StashKey[dict]()
REPORT_DIR = pytest.StashKey[Path]()
LIMITS_FILE = "test_client_limits.py"
MET_SETTINGS = pytest.StashKey[dict]()
POOL = pytest.StashKey[AccountPool]()


def _report_dir() -> Path:
    if os.environ.get("UAT_REPORT_DIR"):
        return Path(os.environ["UAT_REPORT_DIR"])
    return Path(os.environ.get("TEST_RESULTS") or ROOT / "test-results") / "acceptance"


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    # tryfirst: the JUnit plugin reads xmlpath in its own pytest_configure, which runs after this one.
    report_dir = _report_dir()
    report_dir.mkdir(parents=True, exist_ok=True)
    config.stash[REPORT_DIR] = report_dir
    if not config.option.xmlpath:
        config.option.xmlpath = str(report_dir / "junit.xml")
    try:
        config.stash[CATALOG] = load_catalog()
    except CatalogError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[PROBLEMS] = []
    config.stash[OUTCOMES] = {}
    config.stash[MET_SETTINGS] = {"base URL": BASE_URL}


def _whole_suite_collected(config) -> bool:
    """True when every test file of this folder was collected (-m and -k deselect only later)."""
    if config.getoption("lf", False) or config.getoption("ignore", None) or config.getoption("ignore_glob", None):
        return False
    for arg in config.args:
        if "::" in arg:
            continue
        path = (config.invocation_params.dir / arg).resolve()
        if path == HERE or path in HERE.parents:
            return True
    return False


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    # tryfirst: this sees every collected test, before -m/-k/--deselect take any away.
    cases = config.stash[CATALOG]
    mine = [item for item in items if HERE in Path(str(item.path)).resolve().parents]
    config.stash[PROBLEMS].extend(check_tests(cases, mine, _whole_suite_collected(config)))
    # The cases about per-client limits last: if the deployment cannot tell their clients from the runner
    # (see uat/clients.py), only they fail, not every case after them.
    items.sort(key=lambda item: item.path.name == LIMITS_FILE)
    for item in mine:
        case_id, _ = case_id_of(item)
        if case_id in cases:
            case = cases[case_id]
            item.user_properties.extend([("case", case.id), ("title", case.title), ("feature", case.feature),
                                         ("kind", case.kind)])


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    case_id, _ = case_id_of(item)
    if case_id not in item.config.stash[CATALOG]:
        return report
    outcome = item.config.stash[OUTCOMES].setdefault(item.nodeid, Outcome(item.nodeid, case_id))
    outcome.duration += report.duration
    if report.failed and outcome.result in ("passed", "skipped"):
        outcome.result = "failed" if report.when == "call" else "error"
        crash = getattr(report.longrepr, "reprcrash", None)
        outcome.failure = (crash.message if crash else str(report.longrepr))[:800]
        funcargs = getattr(item, "funcargs", {})
        api = funcargs.get("api")
        outcome.exchange = api.last if isinstance(api, Api) else None
        texts = funcargs.get("case")
        outcome.comparisons = list(texts.comparisons) if isinstance(texts, CaseTexts) else []
    elif report.skipped and outcome.result == "passed":
        outcome.result = "skipped"
    return report


def pytest_terminal_summary(terminalreporter, config):
    problems = config.stash.get(PROBLEMS, [])
    if problems:
        terminalreporter.section("acceptance catalog check FAILED", red=True)
        for problem in problems:
            terminalreporter.line(problem)
    if REPORT_DIR in config.stash:
        terminalreporter.line(
            f"acceptance report: {config.stash[REPORT_DIR] / 'report.html'} (and report.md, junit.xml)"
        )


def pytest_sessionfinish(session, exitstatus):
    config = session.config
    if CATALOG not in config.stash:
        return
    cases = config.stash[CATALOG]
    outcomes = list(config.stash[OUTCOMES].values())
    covered = {outcome.case_id for outcome in outcomes}
    settings = config.stash[MET_SETTINGS]
    pool = session.config.stash.get(POOL, None)
    if pool is not None:
        settings["pooled accounts signed up from the runner's address"] = str(pool.signed_up)
    run = Run(BASE_URL, cases, outcomes, problems=config.stash[PROBLEMS],
              not_run=[case_id for case_id in cases if case_id not in covered], settings=settings)
    write_markdown(run, config.stash[REPORT_DIR] / "report.md")
    write_html(run, config.stash[REPORT_DIR] / "report.html")
    if run.problems and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def base_url() -> str:
    return BASE_URL


@pytest.fixture(scope="session")
def kafka_bootstrap_servers() -> str:
    return os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")


@pytest.fixture(autouse=True)
def case(request) -> CaseTexts | None:
    """This test's catalog case, found through its case marker; assert_problem compares answers with it.

    A passing test of an abnormal case must have compared what its user was told with the catalog."""
    case_id, _ = case_id_of(request.node)
    cases = request.config.stash[CATALOG]
    if case_id not in cases:
        yield None  # the catalog check reports the marker
        return
    texts = CaseTexts(cases[case_id])
    yield texts
    outcome = request.config.stash[OUTCOMES].get(request.node.nodeid)
    if texts.case.kind == "abnormal" and outcome is not None and outcome.result == "passed":
        assert texts.comparisons, (
            f"{case_id} is abnormal, but its test never compared what the user is told with the catalog "
            "(assert_problem, or case.assert_told for the web UI)")


@pytest.fixture
def api(base_url):
    """HTTP to the ingress; the report shows its last exchange when the test fails."""
    client = Api(base_url)
    yield client
    client.close()


@pytest.fixture(scope="session")
def account_pool(base_url, request) -> AccountPool:
    pool = request.config.stash[POOL] = AccountPool(base_url)
    return pool


@pytest.fixture(scope="session")
def met_settings(request) -> dict[str, str]:
    """Where cases note the deployment's settings they met (name -> value), for the run report."""
    return request.config.stash[MET_SETTINGS]


@pytest.fixture
def customer(account_pool) -> Account:
    """A logged-in customer from the run's pool (shared with other cases: compare before and after)."""
    return account_pool.account(0)


@pytest.fixture
def other_customer(account_pool) -> Account:
    """Another pooled customer, never the same as `customer`."""
    return account_pool.account(1)


@pytest.fixture(scope="session")
def staff(base_url) -> Account:
    """The staff account of the deployment (never locked out: no case fails a login with it)."""
    user_id, password = staff_credentials()
    client = Api(base_url)
    try:
        return Account(user_id, password, log_in(client, user_id, password))
    finally:
        client.close()


@pytest.fixture
def watch(kafka_bootstrap_servers):
    """watch(topic) starts reading a topic from its current end; call it before the action."""
    watches: list[TopicWatch] = []

    def start(topic: str) -> TopicWatch:
        watches.append(TopicWatch(kafka_bootstrap_servers, topic))
        return watches[-1]

    yield start
    for topic_watch in watches:
        topic_watch.close()
