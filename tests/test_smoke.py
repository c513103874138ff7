"""The real server answers health checks on a loopback port."""

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.support.serving import serving


async def test_health_reports_serving_for_the_judge_service() -> None:
    async with serving() as running:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            reply = await stub.Check(
                health_pb2.HealthCheckRequest(service="bsa.judge.v1.JudgeService")
            )
    assert reply.status == health_pb2.HealthCheckResponse.SERVING
