"""`make bench`: every benchmark, printed one after the other."""

from tests.bench import api, registry

registry.pull_costs()
api.api_costs()
registry.push_pull_wall_time()
