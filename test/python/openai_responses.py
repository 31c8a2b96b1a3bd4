"""An app as openai-python users write it for the Responses API, pointed at
the sidecar by the environment (OPENAI_BASE_URL, OPENAI_API_KEY):

    client = OpenAI()
    client.responses.create(model=ROUTE, input=...)

    python openai_responses.py ROUTE ADA_ROUTE

Runs every case on ROUTE (its primary is down, its backup serves) and the
previous_response_id case on ADA_ROUTE (its primary serves the first turn
and is down for the follow-ups), and prints one JSON line: case name -> what
the app saw, or {"error": ...} when the SDK raised, so one failing case does
not hide the others.
"""
import json
import sys
import traceback

import openai
import pydantic
from openai import OpenAI

client = OpenAI(max_retries=0)

WEATHER_TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "The weather in a city.",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    },
    "strict": True,
}


class Weather(pydantic.BaseModel):
    city: str
    temperature_c: float


calls = []


def get_weather(city):
    calls.append(city)
    return f"Sunny in {city}, 21 C"


def create(route):
    raw = client.responses.with_raw_response.create(model=route, input="Say hello.", instructions="Be brief.", max_output_tokens=300)
    r = raw.parse()
    return {
        "object": r.object,
        "status": r.status,
        "output_text": r.output_text,
        "output_types": [i.type for i in r.output],
        "usage": {"input_tokens": r.usage.input_tokens, "output_tokens": r.usage.output_tokens, "total_tokens": r.usage.total_tokens},
        "headers": {k: v for k, v in raw.headers.items() if k.startswith("x-llmroute-")},
    }


def create_stream(route):
    types, seqs, deltas, completed = [], [], [], None
    for event in client.responses.create(model=route, input="Say hello.", stream=True):
        types.append(event.type)
        seqs.append(event.sequence_number)
        if event.type == "response.output_text.delta":
            deltas.append(event.delta)
        if event.type == "response.completed":
            completed = event.response
    return {
        "types": types,
        "sequence_numbers": seqs,
        "text": "".join(deltas),
        "completed": {"status": completed.status, "output_text": completed.output_text, "output_tokens": completed.usage.output_tokens} if completed else None,
    }


def stream_helper(route):
    deltas = []
    with client.responses.stream(model=route, input="Say hello.") as stream:
        for event in stream:
            if event.type == "response.output_text.delta":
                deltas.append(event.delta)
        final = stream.get_final_response()
    return {"text": "".join(deltas), "final_output_text": final.output_text, "final_status": final.status}


def tools_loop(route):
    calls.clear()
    question = [{"role": "user", "content": "What is the weather in Oslo?"}]
    first = client.responses.create(model=route, input=question, tools=[WEATHER_TOOL])
    fcalls = [i for i in first.output if i.type == "function_call"]
    followup = question + [item.model_dump(exclude_none=True) for item in first.output]
    for fc in fcalls:
        result = get_weather(**json.loads(fc.arguments))
        followup.append({"type": "function_call_output", "call_id": fc.call_id, "output": result})
    second = client.responses.create(model=route, input=followup, tools=[WEATHER_TOOL])
    return {
        "first": {"output_types": [i.type for i in first.output], "calls": [{"name": f.name, "arguments": json.loads(f.arguments)} for f in fcalls]},
        "executed": list(calls),
        "answer": second.output_text,
    }


def tools_stream(route):
    """The tool call streamed through the .stream() helper: the arguments as deltas, the call in the final response."""
    arg_deltas = []
    with client.responses.stream(model=route, input="What is the weather in Oslo?", tools=[WEATHER_TOOL]) as stream:
        for event in stream:
            if event.type == "response.function_call_arguments.delta":
                arg_deltas.append(event.delta)
        final = stream.get_final_response()
    fcalls = [i for i in final.output if i.type == "function_call"]
    return {
        "arguments_streamed": "".join(arg_deltas),
        "calls": [{"name": f.name, "arguments": json.loads(f.arguments), "call_id_set": bool(f.call_id)} for f in fcalls],
    }


def parse(route):
    r = client.responses.parse(model=route, input="The weather in Paris, please.", text_format=Weather)
    parsed = r.output_parsed
    return {"type": type(parsed).__name__, "parsed": parsed.model_dump() if parsed else None}


def previous_response(route):
    first = client.responses.create(model=route, input="My name is Ada.")
    second = client.responses.create(model=route, input="What is my name?", previous_response_id=first.id)
    deltas = []
    with client.responses.stream(model=route, input="And once more?", previous_response_id=second.id) as stream:
        for event in stream:
            if event.type == "response.output_text.delta":
                deltas.append(event.delta)
        third = stream.get_final_response()
    return {
        "first": first.output_text,
        "second": second.output_text,
        "third": third.output_text,
        "third_streamed": "".join(deltas),
        "ids_distinct": len({first.id, second.id, third.id}) == 3,
    }


def run(fn, *args):
    try:
        return fn(*args)
    except Exception as e:  # the test shows which case failed and how
        return {"error": f"{type(e).__name__}: {e}", "trace": traceback.format_exc()[-1500:]}


def main(route, ada_route):
    out = {"sdk": "openai " + openai.__version__}
    out["create"] = run(create, route)
    out["create_stream"] = run(create_stream, route)
    out["stream_helper"] = run(stream_helper, route)
    out["tools_loop"] = run(tools_loop, route)
    out["tools_stream"] = run(tools_stream, route)
    out["parse"] = run(parse, route)
    out["previous_response_id"] = run(previous_response, ada_route)
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
