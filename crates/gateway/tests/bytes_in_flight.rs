//! The bytes-in-flight budget: frames and bodies being read count (beyond the first 64 KiB each)
//! against a gateway-wide total and a per-sender share. A sender that holds its share with unterminated frames gets AR (207)
//! on the next one, not more memory; a legitimate sender on another address still gets AA within
//! a second; once the total is spent, HTTP answers 503 with Retry-After in the endpoint's
//! protocol; and the budget comes back when the hoarding connections close.

mod support;

use passerelle_gateway::Config;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const KIB: usize = 1024;

async fn connect_from(from: &str, port: u16) -> tokio::net::TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.bind(SocketAddr::new(from.parse().expect("ip"), 0)).expect("bind");
    socket.connect(SocketAddr::new("127.0.0.1".parse().expect("ip"), port)).await.expect("connect")
}

/// Opens a connection from `from` and sends `size` bytes of a frame that never ends.
async fn hoard(from: &str, port: u16, size: usize) -> tokio::net::TcpStream {
    let mut stream = connect_from(from, port).await;
    let mut frame = b"\x0bMSH|^~\\&|HOARD|X|||20261201||ADT^A01|H|P|2.5\rNTE|".to_vec();
    frame.resize(size, b'x');
    stream.write_all(&frame).await.expect("write");
    stream
}

/// What the server answered before closing, if it closes within 5 s.
async fn answer(stream: &mut tokio::net::TcpStream) -> String {
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hoarded_frames_fill_their_senders_share_and_the_budget_comes_back() {
    passerelle_gateway::delivery::install_tls_provider();
    let tmp = tempfile::tempdir().expect("tmp");
    let text = format!(
        "[gateway]\nmax_bytes_in_flight = {total}\nmax_bytes_in_flight_per_remote = {share}\n\
         [store]\npath = \"{db}\"\n[admin]\nbind = \"127.0.0.1:0\"\n\
         [[listener]]\nname = \"mllp-in\"\nkind = \"mllp\"\nbind = \"0.0.0.0:0\"\nmax_frame_bytes = 4194304\nfirst_read_timeout_secs = 30\nidle_timeout_secs = 30\n\
         [[listener]]\nname = \"http-in\"\nkind = \"http\"\nbind = \"0.0.0.0:0\"\nmax_frame_bytes = 4194304\n",
        total = 1024 * KIB,
        share = 700 * KIB,
        db = tmp.path().join("j.db").display()
    );
    let gw = passerelle_gateway::start(Config::parse(&text, "budget.toml").expect("config")).await.expect("start");
    let (mllp, http) = (gw.address("mllp-in").expect("mllp").port(), gw.address("http-in").expect("http").port());

    // 127.0.0.1 hoards 2 × 300 KiB (each counted beyond its uncharged first 64 KiB: 2 × 236 KiB);
    // a third would pass its 700 KiB share: AR 207, closed.
    let mut hoarders = Vec::new();
    for _ in 0..2 {
        hoarders.push(hoard("127.0.0.1", mllp, 300 * KIB).await);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut over = hoard("127.0.0.1", mllp, 300 * KIB).await;
    let refused = answer(&mut over).await;
    assert!(refused.contains("MSA|AR|") && refused.contains("|207"), "{refused}");

    // Meanwhile a legitimate sender on another address is not affected.
    let mut legit = MllpClient::connect_stream(connect_from("127.0.0.2", mllp).await);
    let started = Instant::now();
    let (code, _, _) = legit.send(&adt("BUDGET-1", "IPP-BUDGET-1", 1)).await;
    assert!(code == "AA" && started.elapsed() < Duration::from_secs(1), "{code} in {:?}", started.elapsed());

    // 127.0.0.3 takes more of the total (472 + 286 KiB counted); an HTTP body of 400 KiB from a
    // fourth address would pass it: 503, in HL7 v2, with Retry-After.
    let _third = hoard("127.0.0.3", mllp, 350 * KIB).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let client = reqwest::Client::builder().local_address("127.0.0.4".parse::<IpAddr>().expect("ip")).build().expect("client");
    let mut body = adt("BUDGET-2", "IPP-BUDGET-2", 2);
    body.extend(std::iter::repeat_n(b'\r', 400 * KIB));
    let url = format!("http://127.0.0.1:{http}/hl7v2");
    let response = client.post(&url).header("content-type", "x-application/hl7-v2+er7").body(body).send().await.expect("post");
    let status = response.status().as_u16();
    let retry_after = response.headers().get("retry-after").is_some();
    let ack = response.text().await.unwrap_or_default();
    assert!(status == 503 && retry_after && ack.contains("MSA|AR|"), "{status} {ack}");

    // The hoarders leave: their bytes come back, and the same body is taken.
    hoarders.clear();
    drop(_third);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut body = adt("BUDGET-3", "IPP-BUDGET-3", 3);
    body.extend(std::iter::repeat_n(b'\r', 2));
    let response = client.post(&url).header("content-type", "x-application/hl7-v2+er7").body(body).send().await.expect("post");
    let ack = response.text().await.unwrap_or_default();
    assert!(ack.contains("MSA|AA|BUDGET-3"), "{ack}");

    let metrics = gw.metrics.render();
    for limit in ["max_bytes_in_flight_per_remote", "max_bytes_in_flight"] {
        assert!(metrics.contains(&format!("limit=\"{limit}\"")), "{limit} counted:\n{metrics}");
    }
    gw.shutdown().await;
}
