//! Sounds (docs/SOUNDS.md): uploads proven to be audio by decoding, limits, the public files with
//! their caching and range headers, isolation between projects, rules naming sounds, quotas and
//! storage usage, and the S3-compatible store.
//!
//! The mp3, ogg and aiff files are tones made here with sox (Debian's `sox` and
//! `libsox-fmt-mp3`, installed by scripts/setup.sh); the wav files are written by hand.

use reqwest::header;
use serde_json::{json, Value};

use crate::helpers::{wav, Reply, TestApp, TestProject};

/// A sine tone of `seconds` at `rate` Hz over `channels`, encoded by sox as `ext` (mp3, ogg,
/// aiff).
fn tone(ext: &str, seconds: f32, rate: u32, channels: u32) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join(format!("tone.{ext}"));
    let status = std::process::Command::new("sox")
        .args(["-n", "-r", &rate.to_string(), "-c", &channels.to_string()])
        .arg(&out)
        .args(["synth", &seconds.to_string(), "sine", "660"])
        .status()
        .expect("sox runs (scripts/setup.sh installs it)");
    assert!(status.success(), "sox made a {ext}");
    std::fs::read(out).unwrap()
}

async fn upload(app: &TestApp, p: &TestProject, name: Option<&str>, file: &str, bytes: Vec<u8>) -> Reply {
    app.upload_sound(&p.admin_token, name, file, bytes).await
}

fn near(actual: &Value, expected: i64, within: i64) -> bool {
    actual.as_i64().is_some_and(|a| (a - expected).abs() <= within)
}

#[tokio::test]
async fn each_format_decodes_to_its_true_length_and_is_served_without_credentials() {
    let app = TestApp::spawn().await;
    let p = app.project("Sounds").await;

    // No name: the file's own name, made into a sound name.
    let w = upload(&app, &p, None, "Door Bell.wav", wav(750, 16000)).await;
    assert_eq!(w.status, 201, "{}", w.body);
    assert_eq!(w.body["name"], "door_bell");
    assert_eq!(w.body["format"], "wav");
    assert_eq!(w.body["contentType"], "audio/wav");
    assert_eq!(w.body["durationMs"], 750);
    assert_eq!(w.body["sampleRate"], 16000);
    assert_eq!(w.body["channels"], 1);
    assert_eq!(w.body["fileName"], "door_bell.wav");

    // The declared name and type count for nothing: the bytes decide.
    let mp3 = tone("mp3", 1.2, 22050, 1);
    let m = upload(&app, &p, Some("chime"), "chime.wav", mp3.clone()).await;
    assert_eq!(m.status, 201, "{}", m.body);
    assert_eq!(m.body["format"], "mp3");
    assert_eq!(m.body["contentType"], "audio/mpeg");
    assert!(near(&m.body["durationMs"], 1200, 100), "an mp3 of 1.2 s: {}", m.body);
    let o = upload(&app, &p, Some("chime_ogg"), "x.ogg", tone("ogg", 0.8, 22050, 2)).await;
    assert_eq!(o.status, 201, "{}", o.body);
    assert_eq!((o.body["format"].as_str(), o.body["channels"].as_i64()), (Some("ogg"), Some(2)));
    assert!(near(&o.body["durationMs"], 800, 30), "{}", o.body);
    let a = upload(&app, &p, Some("ding"), "ding.aiff", tone("aiff", 0.5, 8000, 1)).await;
    assert_eq!(a.status, 201, "{}", a.body);
    assert_eq!(a.body["format"], "aiff");
    assert!(near(&a.body["durationMs"], 500, 5), "{}", a.body);

    let list = app.get("/api/v1/sounds", Some(&p.admin_token)).await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert_eq!(list.body["data"].as_array().unwrap().len(), 4);
    let one = app.get(&format!("/api/v1/sounds/{}", m.body["id"].as_str().unwrap()), Some(&p.admin_token)).await;
    assert_eq!(one.body["name"], "chime");

    // The public file: the bytes as uploaded, no credentials, cacheable for good.
    let url = m.body["url"].as_str().unwrap();
    assert!(url.starts_with(&format!("{}/media/sounds/{}/", app.base, p.id)) && url.ends_with(".mp3"), "{url}");
    let res = reqwest::get(url).await.unwrap();
    assert_eq!(res.status(), 200);
    let h = res.headers().clone();
    assert_eq!(h[header::CONTENT_TYPE], "audio/mpeg");
    assert!(h[header::CACHE_CONTROL].to_str().unwrap().contains("immutable"));
    assert_eq!(h[header::ACCEPT_RANGES], "bytes");
    assert_eq!(h[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
    let etag = h[header::ETAG].to_str().unwrap().to_string();
    assert_eq!(res.bytes().await.unwrap().to_vec(), mp3);

    let again = app.client.get(url).header(header::IF_NONE_MATCH, &etag).send().await.unwrap();
    assert_eq!(again.status(), 304);
    let part = app.client.get(url).header(header::RANGE, "bytes=10-19").send().await.unwrap();
    assert_eq!(part.status(), 206);
    let size = mp3.len();
    assert_eq!(part.headers()[header::CONTENT_RANGE].to_str().unwrap(), format!("bytes 10-19/{size}"));
    assert_eq!(part.bytes().await.unwrap().to_vec(), mp3[10..20].to_vec());
    let outside = app.client.get(url).header(header::RANGE, "bytes=999999-").send().await.unwrap();
    assert_eq!(outside.status(), 416);
    let head = app.client.head(url).send().await.unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers()[header::CONTENT_LENGTH].to_str().unwrap(), size.to_string());
    app.teardown().await;
}

#[tokio::test]
async fn what_is_not_a_short_small_sound_is_refused_with_a_clear_error() {
    let app = TestApp::spawn().await;
    let p = app.project("Refusals").await;

    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89".to_vec();
    let r = upload(&app, &p, Some("logo"), "logo.mp3", png).await;
    assert_eq!(r.status, 415, "{}", r.body);
    assert_eq!(r.code(), "unsupported_media_type");

    let big = upload(&app, &p, Some("big"), "big.wav", wav(40_000, 16000)).await;
    assert_eq!(big.status, 413, "over 1 MiB: {}", big.body);
    assert_eq!(big.code(), "payload_too_large");

    let long = upload(&app, &p, Some("long"), "long.mp3", tone("mp3", 31.0, 8000, 1)).await;
    assert_eq!(long.status, 400, "31 s: {}", long.body);
    assert!(long.body["error"]["details"]["fields"]["file"].as_str().unwrap().contains("30 seconds"), "{}", long.body);

    let bad = upload(&app, &p, Some("Door-Bell"), "a.wav", wav(100, 8000)).await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(bad.body["error"]["details"]["fields"]["name"].is_string(), "{}", bad.body);

    let json = app.post("/api/v1/sounds", Some(&p.admin_token), json!({"name": "x"})).await;
    assert_eq!(json.status, 415, "not a form: {}", json.body);

    assert_eq!(upload(&app, &p, Some("ok"), "ok.wav", wav(100, 8000)).await.status, 201);
    let twice = upload(&app, &p, Some("ok"), "ok.wav", wav(100, 8000)).await;
    assert_eq!(twice.status, 409, "{}", twice.body);

    // Nothing refused was kept.
    let list = app.get("/api/v1/sounds", Some(&p.admin_token)).await;
    assert_eq!(list.body["data"].as_array().unwrap().len(), 1, "{}", list.body);
    let files = std::fs::read_dir(app.svc.settings.data_dir.join("sounds").join(&p.id)).unwrap().count();
    assert_eq!(files, 1);
    app.teardown().await;
}

#[tokio::test]
async fn another_projects_sound_is_not_found_through_the_api_or_the_file_url() {
    let app = TestApp::spawn().await;
    let a = app.project("A").await;
    let b = app.project("B").await;
    let s = upload(&app, &a, Some("bell"), "bell.wav", wav(200, 8000)).await;
    let id = s.body["id"].as_str().unwrap();

    assert_eq!(app.get(&format!("/api/v1/sounds/{id}"), Some(&b.admin_token)).await.status, 404);
    assert_eq!(app.delete(&format!("/api/v1/sounds/{id}"), Some(&b.admin_token)).await.status, 404);
    assert_eq!(app.get("/api/v1/sounds", Some(&b.admin_token)).await.body["data"], json!([]));
    let wrong_project = reqwest::get(format!("{}/media/sounds/{}/{id}.wav", app.base, b.id)).await.unwrap();
    assert_eq!(wrong_project.status(), 404);
    let wrong_ext = reqwest::get(format!("{}/media/sounds/{}/{id}.mp3", app.base, a.id)).await.unwrap();
    assert_eq!(wrong_ext.status(), 404);
    let traversal = reqwest::get(format!("{}/media/sounds/{}/..%2F..%2Fetc.wav", app.base, a.id)).await.unwrap();
    assert_eq!(traversal.status(), 404);
    // A rule of B cannot name A's sound.
    let rule = app
        .post(
            "/api/v1/rules",
            Some(&b.admin_token),
            json!({"name": "r", "condition": "true", "notifyEventUser": true, "title": "t", "message": "m", "sound": "bell"}),
        )
        .await;
    assert_eq!(rule.status, 400, "{}", rule.body);
    assert!(rule.body["error"]["details"]["fields"]["sound"].is_string(), "{}", rule.body);
    app.teardown().await;
}

#[tokio::test]
async fn a_sound_an_active_rule_plays_is_deleted_only_when_forced() {
    let app = TestApp::spawn().await;
    let p = app.project("Rules").await;
    let s = upload(&app, &p, Some("bell"), "bell.wav", wav(200, 8000)).await;
    let id = s.body["id"].as_str().unwrap().to_string();
    let rule = app
        .post(
            "/api/v1/rules",
            Some(&p.admin_token),
            json!({"name": "Bell", "condition": "true", "notifyEventUser": true, "title": "t", "message": "m", "sound": "bell"}),
        )
        .await;
    assert_eq!(rule.status, 201, "{}", rule.body);
    assert_eq!(rule.body["soundUrl"], s.body["url"], "the rule carries the sound's URL");
    let rule_id = rule.body["id"].as_str().unwrap();

    let refused = app.delete(&format!("/api/v1/sounds/{id}"), Some(&p.admin_token)).await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert_eq!(refused.body["error"]["details"]["rules"][0]["id"], rule_id);

    let forced = app.delete(&format!("/api/v1/sounds/{id}?force=true"), Some(&p.admin_token)).await;
    assert_eq!(forced.status, 204, "{}", forced.body);
    let after = app.get(&format!("/api/v1/rules/{rule_id}"), Some(&p.admin_token)).await;
    assert_eq!(after.body["sound"], Value::Null, "{}", after.body);
    assert_eq!(after.body["soundUrl"], Value::Null);
    assert_eq!(reqwest::get(s.body["url"].as_str().unwrap()).await.unwrap().status(), 404);
    let audit = app.get("/api/v1/audit", Some(&p.admin_token)).await.body.to_string();
    assert!(audit.contains("sound.create") && audit.contains("sound.delete"), "{audit}");
    app.teardown().await;
}

#[tokio::test]
async fn the_free_plan_keeps_three_sounds_and_usage_counts_their_bytes() {
    let app = TestApp::spawn().await;
    let p = app.project_on("Free", "free").await;
    let mut total = 0;
    for i in 0..3 {
        let bytes = wav(100 + i * 50, 8000);
        total += bytes.len();
        let r = upload(&app, &p, Some(&format!("s{i}")), "s.wav", bytes).await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let fourth = upload(&app, &p, Some("s3"), "s.wav", wav(100, 8000)).await;
    assert_eq!(fourth.status, 403, "{}", fourth.body);
    assert_eq!(fourth.code(), "quota_exceeded");
    assert_eq!(fourth.body["error"]["details"]["quota"], "sounds");

    let usage = app.get("/api/v1/projects/me/usage?periodType=monthly", Some(&p.admin_token)).await;
    assert_eq!(usage.status, 200, "{}", usage.body);
    assert_eq!(usage.body["data"][0]["storageUsedBytes"], total as i64, "{}", usage.body);
    app.teardown().await;
}

/// Several processes share the files through S3-compatible storage: this runs against a local
/// S3 server (moto, installed by scripts/setup.sh) and is skipped only where none is installed.
#[tokio::test]
async fn sounds_live_in_object_storage_when_configured() {
    let Some(s3) = S3Server::start().await else {
        eprintln!("skipped: moto_server is not installed (scripts/setup.sh installs it)");
        return;
    };
    std::env::set_var("AWS_ENDPOINT", &s3.endpoint);
    std::env::set_var("AWS_ALLOW_HTTP", "true");
    std::env::set_var("AWS_ACCESS_KEY_ID", "test");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "test");
    std::env::set_var("AWS_REGION", "us-east-1");
    let app = TestApp::spawn_with(|s| s.storage_url = Some("s3://sounds-test/tenants".into())).await;
    let p = app.project("S3").await;
    let s = upload(&app, &p, Some("bell"), "bell.wav", wav(300, 8000)).await;
    assert_eq!(s.status, 201, "{}", s.body);
    let key = format!("tenants/{}/{}.wav", p.id, s.body["id"].as_str().unwrap());
    assert_eq!(s3.object_size(&key).await, Some(wav(300, 8000).len() as u64), "the file is in the bucket at {key}");
    assert!(!app.svc.settings.data_dir.join("sounds").join(&p.id).exists(), "and not on the local disk");
    let served = reqwest::get(s.body["url"].as_str().unwrap()).await.unwrap();
    assert_eq!(served.status(), 200);
    assert_eq!(served.bytes().await.unwrap().to_vec(), wav(300, 8000));
    let part = app.client.get(s.body["url"].as_str().unwrap()).header(header::RANGE, "bytes=0-3").send().await.unwrap();
    assert_eq!(part.bytes().await.unwrap().as_ref(), b"RIFF");

    let gone = app.delete(&format!("/api/v1/sounds/{}", s.body["id"].as_str().unwrap()), Some(&p.admin_token)).await;
    assert_eq!(gone.status, 204);
    assert_eq!(s3.object_size(&key).await, None, "deleted from the bucket too");
    app.teardown().await;
}

/// A local S3 server (moto) with one bucket, stopped when dropped.
struct S3Server {
    endpoint: String,
    child: std::process::Child,
}

impl S3Server {
    async fn start() -> Option<S3Server> {
        let port = std::net::TcpListener::bind("127.0.0.1:0").ok()?.local_addr().ok()?.port();
        let child = std::process::Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .ok()?;
        let server = S3Server { endpoint: format!("http://127.0.0.1:{port}"), child };
        let client = reqwest::Client::new();
        for _ in 0..100 {
            if let Ok(r) = client.put(format!("{}/sounds-test", server.endpoint)).send().await {
                assert!(r.status().is_success(), "bucket created: {}", r.status());
                return Some(server);
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("moto_server did not answer in 10 s");
    }

    /// The size of `key` in the bucket as the server's own model holds it (moto's state API;
    /// S3 itself answers only signed requests), or `None` when it is not there.
    async fn object_size(&self, key: &str) -> Option<u64> {
        let state: Value =
            reqwest::get(format!("{}/moto-api/data.json", self.endpoint)).await.ok()?.json().await.ok()?;
        let arn = format!("arn:aws:s3:::sounds-test/{key}/");
        state["s3"]["FakeKey"].as_array()?.iter().find_map(|k| {
            let live = k["arn"].as_str().is_some_and(|a| a.starts_with(&arn)) && k["disposed"] != true;
            live.then(|| k["contentsize"].as_u64()).flatten()
        })
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
