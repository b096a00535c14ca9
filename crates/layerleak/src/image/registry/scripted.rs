//! A scripted HTTP server for the client's unit tests: one canned answer per connection, the
//! request heads recorded.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;

/// Serves scripted raw HTTP answers, one per connection, and counts requests.
pub(super) fn scripted(
    answers: Vec<String>,
) -> std::io::Result<(String, std::thread::JoinHandle<Vec<String>>)> {
    scripted_on(TcpListener::bind("127.0.0.1:0")?, answers)
}

pub(super) fn scripted_on(
    listener: TcpListener,
    answers: Vec<String>,
) -> std::io::Result<(String, std::thread::JoinHandle<Vec<String>>)> {
    let addr = listener.local_addr()?.to_string();
    let handle = std::thread::spawn(move || {
        let mut seen = Vec::new();
        for answer in answers {
            let Ok((stream, _)) = listener.accept() else { break };
            let mut reader = BufReader::new(&stream);
            let mut head = String::new();
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                head.push_str(&line);
                line.clear();
            }
            // A request body (a token POST) is kept after a blank line.
            let length = head.lines().find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-length").then(|| v.trim().parse::<usize>().ok())?
            });
            if let Some(n) = length {
                let mut body = vec![0u8; n];
                if std::io::Read::read_exact(&mut reader, &mut body).is_ok() {
                    head.push_str("\r\n");
                    head.push_str(&String::from_utf8_lossy(&body));
                }
            }
            seen.push(head);
            let _ = (&stream).write_all(answer.as_bytes());
        }
        seen
    });
    Ok((addr, handle))
}

pub(super) fn answer(status: &str, headers: &str, body: &str) -> String {
    format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n{headers}\r\n{body}", body.len())
}
