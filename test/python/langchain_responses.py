"""An app as LangChain users write it on the Responses API:
langchain-openai's ChatOpenAI(use_responses_api=True), pointed at the sidecar
(base_url), calling a route.

    python langchain_responses.py MODEL

Makes one invoke, one stream, and a tool loop (bind_tools, the tool run, a
ToolMessage back), and prints what it saw as one JSON line for the test to
check. Any error ends the script with the SDK's exception.
"""
import json
import os
import sys

import langchain_openai
from langchain_core.messages import HumanMessage, ToolMessage
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI

calls = []


@tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    calls.append(city)
    return f"Sunny in {city}, 21 C"


def main(model):
    llm = ChatOpenAI(
        model=model,
        use_responses_api=True,
        base_url=os.environ["LLMROUTE_BASE_URL"],
        api_key="app-key-that-must-not-travel",
        max_retries=0,
    )
    reply = llm.invoke("Say hello.")
    text = "".join(chunk.text for chunk in llm.stream("Say hello."))

    with_tools = llm.bind_tools([get_weather])
    messages = [HumanMessage("What is the weather in Oslo?")]
    first = with_tools.invoke(messages)
    messages.append(first)
    for call in first.tool_calls:
        messages.append(ToolMessage(get_weather.invoke(call["args"]), tool_call_id=call["id"]))
    second = with_tools.invoke(messages)

    print(json.dumps({
        "sdk": "langchain-openai " + langchain_openai.__version__,
        "invoke": {"text": reply.text, "status": reply.response_metadata.get("status")},
        "stream": {"text": text},
        "tools": {
            "calls": [{"name": c["name"], "args": c["args"]} for c in first.tool_calls],
            "executed": list(calls),
            "answer": second.text,
        },
    }))


if __name__ == "__main__":
    main(sys.argv[1])
