//! The TCP connection cap fitted to the file descriptor limit: started with
//! RLIMIT_NOFILE 300 (by `prlimit`), zonal lowers `tcp_max_connections` to what the
//! limit leaves after its reserve (300 − 256 = 44), says so, and keeps serving
//! every new connection (the longest idle making room) and UDP, where before it ran
//! out of descriptors and failed to accept.

mod common;

use std::net::TcpStream;
use std::time::Duration;

use hickory_proto::rr::RecordType;

#[test]
fn the_connection_cap_fits_the_descriptor_limit() {
    let dir = common::data_dir(&["tricky.example.zone"]);
    let zone_dir = dir.path().to_str().expect("utf-8");
    let z = common::Zonal::start_under(
        &["prlimit", "--nofile=300:300", "--"],
        &["--zone-dir", zone_dir],
    );
    let log = z.stderr();
    assert!(
        log.contains("tcp_max_connections lowered") && log.contains("cap=44"),
        "{log}"
    );
    // More connections than zonal has descriptors for, all kept open by the
    // client: each new one is served (an idle one closed for it), none refused for
    // want of descriptors.
    let query = common::query("www.tricky.example.", RecordType::A, None)
        .to_vec()
        .expect("encode");
    let mut open = Vec::new();
    for _ in 0..400 {
        let mut stream = TcpStream::connect(z.addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(3)))
            .expect("timeout");
        common::write_framed(&mut stream, &query);
        assert!(
            common::read_framed(&mut stream).is_some(),
            "a new connection was not served:\n{}",
            z.stderr()
        );
        open.push(stream);
    }
    assert_eq!(
        z.query("www.tricky.example.", RecordType::A).answers.len(),
        1
    );
    assert!(!z.stderr().contains("tcp accept failed"), "{}", z.stderr());
}
