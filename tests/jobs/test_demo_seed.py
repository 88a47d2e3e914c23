from scripts.demo import jobs as demo
from tests.jobs.conftest import World


async def test_demo_seed(world: World) -> None:
    ctx = {"orgs": world.orgs, "headers": {"employer": world.headers["employer"],
                                           "staff_city": world.headers["staff_gz"], "member": world.headers["member"]}}
    await demo.seed(world.client, ctx)
    assert len(await world.found(city="广州")) == 5
    assert len(await world.found(q="电工", city="广州")) == 2
