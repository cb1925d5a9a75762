from galleria.sales.tests.helpers import ACTOR, member

__all__ = ["ACTOR", "member"]
