"""The real server answers standard health checks and lists its services by reflection."""

import asyncio

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)

from tests.support.serving import serving


async def test_health_reports_serving_for_the_server_and_the_judge_service() -> None:
    async with serving() as running:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            health = health_pb2_grpc.HealthStub(channel)
            statuses = {
                service: (await health.Check(health_pb2.HealthCheckRequest(service=service))).status
                for service in ("", "bsa.judge.v1.JudgeService")
            }
    assert statuses == {
        "": health_pb2.HealthCheckResponse.SERVING,
        "bsa.judge.v1.JudgeService": health_pb2.HealthCheckResponse.SERVING,
    }


def _reflected_services(port: int) -> tuple[list[str], list[str]]:
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        database = ProtoReflectionDescriptorDatabase(channel)
        services = sorted(database.get_services())
        judge = database.FindFileContainingSymbol("bsa.judge.v1.JudgeService")
        methods = [method.name for method in judge.service[0].method]
    return services, methods


async def test_reflection_lists_the_judge_service_and_its_rpcs() -> None:
    async with serving() as running:
        # The reflection client is blocking; the server runs on this event loop.
        services, methods = await asyncio.to_thread(_reflected_services, running.port)
    assert services == [
        "bsa.judge.v1.JudgeService",
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
    ]
    assert methods == [
        "Generate",
        "JudgeTrace",
        "JudgeTraces",
        "JudgeTraceBatches",
        "ComputeMetrics",
        "CreateRun",
        "GetRun",
        "ListRuns",
        "ExportRun",
        "EvaluateItems",
    ]
