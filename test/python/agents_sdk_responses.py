"""An app as OpenAI Agents SDK users write it, with the SDK's default model
API (the Responses API), pointed at the sidecar:

    set_default_openai_client(AsyncOpenAI(base_url=..., api_key="unused"))
    set_tracing_disabled(True)

    python agents_sdk_responses.py MODEL

Runs an Agent with instructions and one @function_tool once with
Runner.run_sync and once with Runner.run_streamed, and prints what it saw
(the final outputs, the run items, the tool's calls, the streamed text
deltas) as one JSON line for the test to check. Any error ends the script
with the SDK's exception.
"""
import asyncio
import importlib.metadata
import json
import os
import sys

from openai import AsyncOpenAI
from openai.types.responses import ResponseTextDeltaEvent

from agents import Agent, Runner, function_tool, set_default_openai_client, set_tracing_disabled

calls = []


@function_tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    calls.append(city)
    return f"Sunny in {city}, 21 C"


def client():
    return AsyncOpenAI(base_url=os.environ["LLMROUTE_BASE_URL"], api_key="unused", max_retries=0)


async def streamed(agent):
    # A new client: an AsyncOpenAI's connection pool belongs to the event loop
    # it first ran on (run_sync's), and asyncio.run starts another.
    set_default_openai_client(client())
    result = Runner.run_streamed(agent, "What is the weather in Oslo?")
    deltas, items = [], []
    async for event in result.stream_events():
        if event.type == "raw_response_event" and isinstance(event.data, ResponseTextDeltaEvent):
            deltas.append(event.data.delta)
        elif event.type == "run_item_stream_event":
            items.append(event.item.type)
    return {"final_output": result.final_output, "text": "".join(deltas), "items": items}


def main(model):
    set_default_openai_client(client())
    set_tracing_disabled(True)

    agent = Agent(
        name="Weather assistant",
        instructions="You answer questions about the weather. Use the get_weather tool.",
        model=model,
        tools=[get_weather],
    )
    result = Runner.run_sync(agent, "What is the weather in Oslo?")
    run_sync = {
        "final_output": result.final_output,
        "items": [item.type for item in result.new_items],
        "calls": list(calls),
    }
    calls.clear()
    stream = asyncio.run(streamed(agent))
    stream["calls"] = list(calls)
    print(json.dumps({
        "sdk": "openai-agents " + importlib.metadata.version("openai-agents"),
        "run_sync": run_sync,
        "run_streamed": stream,
    }))


if __name__ == "__main__":
    main(sys.argv[1])
