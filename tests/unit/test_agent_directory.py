from pathlib import Path

import yaml

from handoff.agents import AgentDirectory, hash_password


def write_agents(path: Path, *agent_ids: str) -> None:
    agents = [{"id": agent_id, "languages": ["en"], "password_hash": hash_password(f"{agent_id}-pw")}
              for agent_id in agent_ids]
    path.write_text(yaml.safe_dump({"agents": agents}))


def test_removing_an_agent_from_the_file_revokes_access_at_once(tmp_path: Path) -> None:
    path = tmp_path / "agents.yml"
    write_agents(path, "amy", "bob")
    directory = AgentDirectory.from_file(path)
    assert directory.authenticate("bob", "bob-pw") is not None
    assert directory.authenticate("bob", "wrong") is None
    assert directory.authenticate("nobody", "bob-pw") is None
    write_agents(path, "amy")
    assert directory.get("bob") is None
    assert directory.authenticate("bob", "bob-pw") is None
    assert directory.get("amy") is not None


def test_an_unreadable_directory_locks_everyone_out(tmp_path: Path) -> None:
    path = tmp_path / "agents.yml"
    write_agents(path, "amy")
    directory = AgentDirectory.from_file(path)
    path.write_text("agents: [ {id: broken")
    assert directory.get("amy") is None
