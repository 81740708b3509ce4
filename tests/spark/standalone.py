"""A Spark standalone cluster on loopback: one master and N workers started as plain JVMs with
spark-class (the pip pyspark has no sbin scripts). Used by the cluster tests and bench/spark.py."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

# JVM options for the short-lived JVMs of the tests: the C1 JIT only and the serial collector. The
# cluster test's whole catalog on 50k tickets, measured (load 3-5): 96 -> 52 CPU s, 109 -> 69 s wall;
# C2 compiles pay off only in long runs. The benchmark (bench/spark.py) runs the JVMs' defaults.
TEST_JVM = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"


def jvm_conf() -> dict:
    """Session settings giving a test's driver and executors TEST_JVM."""
    return {"spark.driver.extraJavaOptions": TEST_JVM, "spark.executor.extraJavaOptions": TEST_JVM}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spark_class() -> Path:
    import pyspark
    return Path(pyspark.__file__).parent / "bin" / "spark-class"


class Cluster:
    def __init__(self, workers: int = 2, cores: int = 1, memory: str = "1500m", log_dir: Path | None = None,
                 java_opts: str = ""):
        self.workers, self.cores, self.memory, self.java_opts = workers, cores, memory, java_opts
        self.log_dir = log_dir or Path("/tmp")
        self.port, self.ui = free_port(), free_port()
        self.url = f"spark://127.0.0.1:{self.port}"
        self.procs: list[subprocess.Popen] = []

    def _start(self, name: str, *args: str) -> None:
        env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1", "SPARK_NO_DAEMONIZE": "1",
               "SPARK_DAEMON_JAVA_OPTS": self.java_opts}
        log = open(self.log_dir / f"spark-{name}-{self.port}.log", "wb")
        self.procs.append(subprocess.Popen([str(spark_class()), *args], stdout=log, stderr=subprocess.STDOUT,
                                           env=env, start_new_session=True))

    def alive_workers(self) -> int:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.ui}/json/", timeout=2) as r:
                return int(json.load(r).get("aliveworkers", 0))
        except OSError:
            return 0

    def start(self, timeout: float = 90) -> Cluster:
        return self.launch().ready(timeout)

    def launch(self) -> Cluster:
        """Start the JVMs without waiting (the caller may prepare data while they come up)."""
        self._start("master", "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                    "--port", str(self.port), "--webui-port", str(self.ui))
        for i in range(self.workers):
            self._start(f"worker{i}", "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1",
                        "--cores", str(self.cores), "--memory", self.memory, "--webui-port", str(free_port()),
                        self.url)
        return self

    def ready(self, timeout: float = 90) -> Cluster:
        """Wait until every worker has registered with the master."""
        deadline = time.monotonic() + timeout
        while self.alive_workers() < self.workers:
            if time.monotonic() > deadline or any(p.poll() is not None for p in self.procs):
                self.stop()
                raise RuntimeError(f"the Spark cluster did not start; see {self.log_dir}/spark-*-{self.port}.log")
            time.sleep(0.5)
        return self

    def conf(self) -> dict:
        """Session settings that fit the workers (one 1-core executor on each), with the cluster's
        JVM options for the driver and executors too."""
        jvm = {"spark.driver.extraJavaOptions": self.java_opts, "spark.executor.extraJavaOptions": self.java_opts}
        return {"spark.executor.memory": "1g", "spark.executor.cores": str(self.cores),
                "spark.cores.max": str(self.cores * self.workers), "spark.sql.shuffle.partitions": "4",
                **(jvm if self.java_opts else {})}

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
        self.procs.clear()


class ConnectServer:
    """A Spark Connect server (spark-submit --class ...SparkConnectServer, the jar ships in the pip
    pyspark 4) on loopback, over its own local master; clients use `url` (sc://127.0.0.1:PORT)."""

    def __init__(self, master: str = "local[1]", log_dir: Path | None = None, java_opts: str = ""):
        self.master, self.log_dir, self.java_opts = master, log_dir or Path("/tmp"), java_opts
        self.port = free_port()
        self.url = f"sc://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 120) -> ConnectServer:
        env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1"}
        submit = spark_class().parent / "spark-submit"
        log = open(self.log_dir / f"spark-connect-{self.port}.log", "wb")
        self.proc = subprocess.Popen(
            [str(submit), "--master", self.master, "--driver-memory", "1g",
             *(["--driver-java-options", self.java_opts] if self.java_opts else []),
             "--conf", f"spark.connect.grpc.binding.port={self.port}",
             "--conf", "spark.connect.grpc.binding.address=127.0.0.1",
             "--conf", "spark.ui.enabled=false",
             "--class", "org.apache.spark.sql.connect.service.SparkConnectServer", "spark-internal"],
            stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        deadline = time.monotonic() + timeout
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.stop()
                    raise RuntimeError(f"the Spark Connect server did not start; see {log.name}") from None
                time.sleep(0.5)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.proc = None
