#!/usr/bin/env python3
"""The example HTTP server (examples/go/serve) against the real Triton client, tritonclient.http.

Starts the built server binary on a free loopback port with a small generated model on the CPU
reference executor, then checks with tritonclient: server liveness and readiness, model
readiness, metadata and configuration, the statistics extension, inference with binary tensor
data (the client's default) and with JSON tensors, both compared with onnxruntime run on the
same input, a wrong shape and a wrong datatype (InferenceServerException carrying the server's
message), a body over the server's bound, several concurrent clients (threads), and last that
SIGTERM stops the server with exit status 0.

Usage (the server needs libcudago on its library path: run it through meson devenv):

    meson devenv -C build --workdir examples/go \\
        /opt/cudago-venv/bin/python ../../tests/serve/test_triton_client.py PATH/TO/serve

The server binary is the first argument, or $CUDAGO_SERVE_BIN; the models come from
$CUDAGO_MODELS_DIR (meson devenv sets it). The last line is the summary,
"triton-client: N passed, M failed, K skipped"; the exit status is 0 when all passed.
"""

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import unittest

import numpy as np
import onnxruntime as ort

try:
    import tritonclient.http as httpclient
    from tritonclient.utils import InferenceServerException
except ImportError as e:  # pragma: no cover - the message is the point
    sys.exit(f"test_triton_client.py: cannot import tritonclient.http ({e}): "
             "run scripts/setup.sh (it installs tritonclient[http] into the virtual environment)")

MODEL = "conv_bn_k3_c13_13x11"
ITEM = (13, 13, 11)  # the model's input and output per batch item: x, y f32 [N,13,13,11]
MAX_BATCH = 8
# Bytes: a binary batch of 8 items (59 KB) fits, and the JSON of 2 (tritonclient writes about 20
# characters a value: 75 KB), but not the JSON of 8 (300 KB).
MAX_BODY = 150_000
RTOL, ATOL = 1e-4, 3.24e-4  # the test manifest's tolerance for this model
START_TIMEOUT = 60

SERVE_BIN = None
MODELS_DIR = None


def reference(x):
    """onnxruntime's output for x."""
    return Server.session.run(None, {"x": x})[0]


class Server(unittest.TestCase):
    """The tests share one server; test_zz_sigterm, last in name order, stops it."""

    proc = None
    url = None
    lines = None
    session = None

    @classmethod
    def setUpClass(cls):
        model = os.path.join(MODELS_DIR, MODEL + ".onnx")
        cls.session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
        cls.proc = subprocess.Popen(
            [SERVE_BIN, "-addr", "127.0.0.1:0", "-backend", "reference", "-max-batch", str(MAX_BATCH),
             "-max-queue-delay", "1ms", "-max-body-bytes", str(MAX_BODY), model],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        cls.lines = queue.Queue()

        def pump():
            for line in cls.proc.stdout:
                cls.lines.put(line.rstrip("\n"))
            cls.lines.put(None)

        threading.Thread(target=pump, daemon=True).start()
        deadline = time.monotonic() + START_TIMEOUT
        seen = []
        while cls.url is None:
            try:
                line = cls.lines.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                cls.proc.kill()
                raise RuntimeError(f"the server did not listen within {START_TIMEOUT} s: {seen}")
            if line is None:
                raise RuntimeError(f"the server exited with {cls.proc.wait()}: {seen}")
            seen.append(line)
            m = re.match(r"listening on http://([^/]+)/", line)
            if m:
                cls.url = m.group(1)
        cls.startup = seen

    @classmethod
    def tearDownClass(cls):
        if cls.proc is not None and cls.proc.poll() is None:
            cls.proc.kill()
            cls.proc.wait()

    def client(self, **kw):
        return httpclient.InferenceServerClient(self.url, **kw)

    def infer(self, client, x, binary=True, request_id=""):
        inp = httpclient.InferInput("x", list(x.shape), "FP32")
        inp.set_data_from_numpy(x, binary_data=binary)
        out = httpclient.InferRequestedOutput("y", binary_data=binary)
        return client.infer(MODEL, [inp], outputs=[out], request_id=request_id)

    def test_backend_line(self):
        self.assertTrue(any(l.startswith("backend: reference executor") for l in self.startup), self.startup)

    def test_health(self):
        c = self.client()
        self.assertTrue(c.is_server_live())
        self.assertTrue(c.is_server_ready())
        self.assertTrue(c.is_model_ready(MODEL))
        self.assertTrue(c.is_model_ready(MODEL, model_version="1"))
        self.assertFalse(c.is_model_ready("no_such_model"))

    def test_server_metadata(self):
        md = self.client().get_server_metadata()
        self.assertEqual(md["name"], "cudago")
        self.assertIn("binary_tensor_data", md["extensions"])

    def test_model_metadata(self):
        md = self.client().get_model_metadata(MODEL)
        self.assertEqual(md["name"], MODEL)
        self.assertEqual(md["versions"], ["1"])
        self.assertEqual(md["inputs"], [{"name": "x", "datatype": "FP32", "shape": [-1, *ITEM]}])
        self.assertEqual(md["outputs"], [{"name": "y", "datatype": "FP32", "shape": [-1, *ITEM]}])
        with self.assertRaises(InferenceServerException) as cm:
            self.client().get_model_metadata("no_such_model")
        self.assertIn("unknown model", cm.exception.message())

    def test_model_config(self):
        cfg = self.client().get_model_config(MODEL)
        self.assertEqual(cfg["name"], MODEL)
        self.assertEqual(cfg["max_batch_size"], MAX_BATCH)
        self.assertEqual(cfg["input"], [{"name": "x", "data_type": "TYPE_FP32", "dims": list(ITEM)}])
        self.assertEqual(cfg["output"], [{"name": "y", "data_type": "TYPE_FP32", "dims": list(ITEM)}])
        self.assertEqual(cfg["dynamic_batching"]["max_queue_delay_microseconds"], 1000)

    def test_infer_binary(self):
        rng = np.random.default_rng(1)
        c = self.client()
        for n in (1, 3, MAX_BATCH):
            x = rng.standard_normal((n, *ITEM), dtype=np.float32)
            res = self.infer(c, x, binary=True, request_id=f"bin-{n}")
            y = res.as_numpy("y")
            self.assertEqual(y.shape, (n, *ITEM))
            np.testing.assert_allclose(y, reference(x), rtol=RTOL, atol=ATOL)
            self.assertEqual(res.get_response()["id"], f"bin-{n}")
            self.assertIn("binary_data_size", res.get_output("y")["parameters"])

    def test_infer_json(self):
        rng = np.random.default_rng(2)
        x = rng.standard_normal((2, *ITEM), dtype=np.float32)
        res = self.infer(self.client(), x, binary=False, request_id="json")
        out = res.get_output("y")
        self.assertNotIn("parameters", out)  # the data came as JSON
        np.testing.assert_allclose(res.as_numpy("y"), reference(x), rtol=RTOL, atol=ATOL)

    def test_infer_default_outputs(self):
        # No outputs named: the client asks for every output in binary (binary_data_output).
        x = np.random.default_rng(3).standard_normal((1, *ITEM), dtype=np.float32)
        inp = httpclient.InferInput("x", list(x.shape), "FP32")
        inp.set_data_from_numpy(x)
        res = self.client().infer(MODEL, [inp])
        np.testing.assert_allclose(res.as_numpy("y"), reference(x), rtol=RTOL, atol=ATOL)

    def test_wrong_shape(self):
        x = np.zeros((1, 13, 13, 10), dtype=np.float32)
        with self.assertRaises(InferenceServerException) as cm:
            self.infer(self.client(), x)
        self.assertIn("dimension 3 is 10", cm.exception.message())
        self.assertEqual(cm.exception.status(), "400")

    def test_wrong_batch(self):
        x = np.zeros((MAX_BATCH + 1, *ITEM), dtype=np.float32)
        with self.assertRaises(InferenceServerException) as cm:
            self.infer(self.client(), x)
        self.assertIn(f"want 1 to {MAX_BATCH}", cm.exception.message())

    def test_wrong_datatype(self):
        x = np.zeros((1, *ITEM), dtype=np.int32)
        inp = httpclient.InferInput("x", list(x.shape), "INT32")
        inp.set_data_from_numpy(x)
        with self.assertRaises(InferenceServerException) as cm:
            self.client().infer(MODEL, [inp])
        self.assertIn('datatype "INT32", the model takes FP32', cm.exception.message())

    def test_unknown_input(self):
        x = np.zeros((1, *ITEM), dtype=np.float32)
        inp = httpclient.InferInput("z", list(x.shape), "FP32")
        inp.set_data_from_numpy(x)
        with self.assertRaises(InferenceServerException) as cm:
            self.client().infer(MODEL, [inp])
        self.assertIn('unknown input "z"', cm.exception.message())

    def test_body_too_large(self):
        x = np.random.default_rng(4).standard_normal((MAX_BATCH, *ITEM), dtype=np.float32)
        with self.assertRaises(InferenceServerException) as cm:
            self.infer(self.client(), x, binary=False)  # about 300 KB of JSON
        self.assertIn(f"larger than {MAX_BODY} bytes", cm.exception.message())
        self.assertEqual(cm.exception.status(), "413")

    def test_concurrent_clients(self):
        threads, each = 6, 8
        errors = []

        def work(t):
            try:
                c = self.client()
                rng = np.random.default_rng(100 + t)
                for i in range(each):
                    binary = i % 2 == 0
                    n = 1 + (t + i) % 3 if binary else 1 + t % 2
                    x = rng.standard_normal((n, *ITEM), dtype=np.float32)
                    res = self.infer(c, x, binary=binary)
                    np.testing.assert_allclose(res.as_numpy("y"), reference(x), rtol=RTOL, atol=ATOL)
                c.close()
            except Exception as e:  # reported by the main thread
                errors.append(f"thread {t}: {type(e).__name__}: {e}")

        ts = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(120)
        self.assertEqual(errors, [])
        self.assertFalse(any(t.is_alive() for t in ts), "a client thread is still running")

    def test_statistics(self):
        c = self.client()
        x = np.zeros((2, *ITEM), dtype=np.float32)
        self.infer(c, x)
        st = c.get_inference_statistics(MODEL)["model_stats"][0]
        self.assertEqual(st["name"], MODEL)
        self.assertGreaterEqual(st["inference_stats"]["success"]["count"], 1)
        self.assertGreaterEqual(st["inference_count"], 2)
        self.assertTrue(st["batch_stats"])

    def test_zz_sigterm(self):
        """Last: SIGTERM stops the server gracefully, with exit status 0."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.fail("the server did not exit within 30 s of SIGTERM")
        rest = []
        while True:
            line = self.lines.get(timeout=5)
            if line is None:
                break
            rest.append(line)
        self.assertEqual(rc, 0, rest)
        self.assertTrue(any("shutting down" in l for l in rest), rest)


def main():
    global SERVE_BIN, MODELS_DIR
    SERVE_BIN = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("CUDAGO_SERVE_BIN")
    MODELS_DIR = os.environ.get("CUDAGO_MODELS_DIR")
    if not SERVE_BIN or not os.access(SERVE_BIN, os.X_OK):
        sys.exit(f"test_triton_client.py: no server binary (got {SERVE_BIN!r}): give it as the first "
                 "argument or in $CUDAGO_SERVE_BIN")
    if not MODELS_DIR or not os.path.exists(os.path.join(MODELS_DIR, MODEL + ".onnx")):
        sys.exit(f"test_triton_client.py: {MODEL}.onnx is not in $CUDAGO_MODELS_DIR ({MODELS_DIR!r}): "
                 "run through meson devenv")
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(Server)
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    skipped = len(result.skipped)
    passed = max(result.testsRun - failed - skipped, 0)
    print(f"triton-client: {passed} passed, {failed} failed, {skipped} skipped")
    sys.exit(0 if result.wasSuccessful() and result.testsRun > 0 else 1)


if __name__ == "__main__":
    main()
