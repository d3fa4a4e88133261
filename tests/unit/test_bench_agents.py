"""``make bench`` starts its console with an agent directory the console accepts (a directory it refuses stops the
bench before it measures anything)."""

from pathlib import Path

from evaluation.bench_stack import AGENT_ID, write_bench_agents
from handoff.agents import AgentDirectory


def test_the_bench_agent_directory_is_one_the_console_accepts(tmp_path: Path) -> None:
    agents = tmp_path / "agents.yml"
    write_bench_agents(agents, capacity=100)
    directory = AgentDirectory.from_file(agents)
    agent = directory.get(AGENT_ID)
    assert agent is not None and agent.capacity == 100 and "en" in agent.languages
