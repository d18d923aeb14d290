"""Moved: the worker options now live in ``stratus/compute/conf.py`` (kept as a re-export while code moves)."""

from stratus.compute.conf import AgentConfig, SchedulerConfig, agent_config, scheduler_config

__all__ = ["AgentConfig", "SchedulerConfig", "agent_config", "scheduler_config"]
