//! A Server-Sent Events stream read as it comes (the market's and the
//! notifications' streams).

use super::TestApp;

pub struct Sse(reqwest::Response, pub String);

impl Sse {
    /// Opens `path` (with the bearer `token` and a `Last-Event-ID`, when
    /// given) and checks it is an event stream.
    pub async fn open(app: &TestApp, path: &str, token: Option<&str>, last: Option<&str>) -> Sse {
        let mut req = app.client.get(format!("{}{path}", app.address));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(id) = last {
            req = req.header("last-event-id", id);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(
            res.headers()["content-type"].to_str().unwrap(),
            "text/event-stream"
        );
        Sse(res, String::new())
    }

    /// Everything read so far once it contains `needle` (ten seconds at
    /// most).
    pub async fn until(&mut self, needle: &str) -> &str {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        while !self.1.contains(needle) {
            let chunk = tokio::time::timeout_at(deadline, self.0.chunk())
                .await
                .unwrap_or_else(|_| panic!("no {needle:?} on the stream: {}", self.1))
                .unwrap()
                .expect("the stream stays open");
            self.1.push_str(std::str::from_utf8(&chunk).unwrap());
        }
        &self.1
    }

    /// Everything read so far after `quiet` more of listening.
    pub async fn after(&mut self, quiet: std::time::Duration) -> &str {
        let deadline = tokio::time::Instant::now() + quiet;
        while let Ok(chunk) = tokio::time::timeout_at(deadline, self.0.chunk()).await {
            match chunk.unwrap() {
                Some(c) => self.1.push_str(std::str::from_utf8(&c).unwrap()),
                None => break,
            }
        }
        &self.1
    }
}
