//! sipp (Debian `sip-tester`): the callers, and the peer that answers
//! them by playing a pcap. Scenarios are written for each run, since the
//! length of a call and the audio file are the run's.
//!
//! Every call's SDP names its own media port (`[auto_media_port]`: the
//! base port plus 4 per call), and sipp sends the pcap's packets from that
//! port: each call is a stream of its own in a capture.

use anyhow::{Context, bail};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The headers of a caller's in-dialog requests.
const DIALOG: &str = r#"Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      From: "Load" <sip:+15550100[call_number]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      Max-Forwards: 70"#;

/// A call with G.711 µ-law audio offered on its own port.
fn invite() -> String {
    r#"  <send retrans="500">
    <![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      From: "Load" <sip:+15550100[call_number]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:+15550100[call_number]@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=load 1 1 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [auto_media_port] RTP/AVP 0
      a=rtpmap:0 PCMU/8000
      a=ptime:20
    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200" rtd="true"/>
"#
    .to_string()
}

fn ack_and(middle: &str) -> String {
    format!(
        r#"  <send>
    <![CDATA[
      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      {DIALOG}
      CSeq: 1 ACK
      Content-Length: 0
    ]]>
  </send>
{middle}  <send retrans="500">
    <![CDATA[
      BYE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      {DIALOG}
      CSeq: 2 BYE
      Content-Length: 0
    ]]>
  </send>
  <recv response="200" crlf="true"/>
"#
    )
}

fn scenario(name: &str, body: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"ISO-8859-1\" ?>\n<!DOCTYPE scenario SYSTEM \"sipp.dtd\">\n<scenario name=\"{name}\">\n{body}</scenario>\n"
    )
}

/// A caller who talks (plays `audio`) for `hold` and hangs up.
pub fn held_call(audio: &Path, hold: Duration) -> String {
    let middle = format!(
        "  <nop><action><exec play_pcap_audio=\"{}\"/></action></nop>\n  <pause milliseconds=\"{}\"/>\n",
        audio.display(),
        hold.as_millis()
    );
    scenario("held call", &format!("{}{}", invite(), ack_and(&middle)))
}

/// A call hung up as soon as it is answered: set-up and tear-down only.
pub fn short_call() -> String {
    scenario("short call", &format!("{}{}", invite(), ack_and("")))
}

/// The peer: answers every call at once with its SDP and plays `audio` to
/// the caller until the caller hangs up.
pub fn pcap_answerer(audio: &Path) -> String {
    let reply = |status: &str, sdp: bool| {
        let content = if sdp {
            "Content-Type: application/sdp\n      Content-Length: [len]\n\n      v=0\n      o=peer 1 1 IN IP[local_ip_type] [local_ip]\n      s=-\n      c=IN IP[media_ip_type] [media_ip]\n      t=0 0\n      m=audio [auto_media_port] RTP/AVP 0\n      a=rtpmap:0 PCMU/8000\n      a=ptime:20"
        } else {
            "Content-Length: 0"
        };
        format!(
            "  <send>\n    <![CDATA[\n      SIP/2.0 {status}\n      [last_Via:]\n      [last_From:]\n      [last_To:];tag=[pid]SIPpTag01[call_number]\n      [last_Call-ID:]\n      [last_CSeq:]\n      Contact: <sip:peer@[local_ip]:[local_port]>\n      {content}\n    ]]>\n  </send>\n"
        )
    };
    let body = format!(
        "  <recv request=\"INVITE\" crlf=\"true\"/>\n{}  <recv request=\"ACK\" crlf=\"true\"/>\n  <nop><action><exec play_pcap_audio=\"{}\"/></action></nop>\n  <recv request=\"BYE\"/>\n{}",
        reply("200 OK", true),
        audio.display(),
        reply("200 OK", false)
    );
    scenario("pcap answerer", &body)
}

/// What sipp counted, from its statistics file.
#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub struct Counts {
    pub created: u64,
    pub current: u64,
    pub successful: u64,
    pub failed: u64,
}

/// A running sipp, killed when dropped.
pub struct Sipp {
    child: Child,
    stats: PathBuf,
    log: PathBuf,
}

/// How a sipp is started.
pub struct Launch<'a> {
    pub dir: &'a Path,
    pub label: &'a str,
    pub scenario: &'a str,
    /// Where calls go (none for the answerer).
    pub to: Option<SocketAddr>,
    /// The first media port (`[auto_media_port]` adds 4 per call).
    pub media_port: u16,
    /// More arguments: `-r`, `-m`, `-l`, `-p`.
    pub args: Vec<String>,
}

impl Sipp {
    pub fn start(l: Launch<'_>) -> anyhow::Result<Sipp> {
        let xml = l.dir.join(format!("{}.xml", l.label));
        std::fs::write(&xml, l.scenario).with_context(|| format!("writing {}", xml.display()))?;
        let stats = l.dir.join(format!("{}.stats.csv", l.label));
        let log = l.dir.join(format!("{}.log", l.label));
        let out = std::fs::File::create(&log).with_context(|| format!("creating {}", log.display()))?;
        let mut cmd = Command::new("sipp");
        cmd.arg("-sf").arg(&xml);
        cmd.args(["-s", "15550001000", "-i", "127.0.0.1", "-mi", "127.0.0.1", "-nostdin", "-trace_stat", "-fd", "1"]);
        cmd.arg("-mp").arg(l.media_port.to_string()).arg("-stf").arg(&stats);
        // Unexpected messages and errors go to a file, to read after a failure.
        cmd.args(["-trace_err", "-error_file"]).arg(l.dir.join(format!("{}.errors.log", l.label)));
        cmd.args(&l.args);
        if let Some(to) = l.to {
            cmd.arg(to.to_string());
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(out)
            .spawn()
            .context("starting sipp (Debian `sip-tester`)")?;
        Ok(Sipp { child, stats, log })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The latest counts sipp wrote (once a second).
    pub fn counts(&self) -> Counts {
        read_counts(&self.stats).unwrap_or_default()
    }

    /// Waits until `ready` holds for the counts, failing if sipp exits or `within` passes.
    pub async fn until(&mut self, within: Duration, ready: impl Fn(&Counts) -> bool) -> anyhow::Result<Counts> {
        let deadline = Instant::now() + within;
        loop {
            let c = self.counts();
            if ready(&c) {
                return Ok(c);
            }
            if let Some(status) = self.child.try_wait()? {
                bail!("sipp exited ({status}) with {c:?}: {}", self.log_text());
            }
            if Instant::now() > deadline {
                bail!("sipp did not get there within {within:?}: {c:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits for sipp to finish its calls; its final counts.
    pub async fn finish(mut self, within: Duration) -> anyhow::Result<Counts> {
        let deadline = Instant::now() + within;
        while self.child.try_wait()?.is_none() {
            if Instant::now() > deadline {
                bail!("sipp did not finish within {within:?}: {:?}", self.counts());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        read_counts(&self.stats).with_context(|| format!("sipp's statistics: {}", self.log_text()))
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Sipp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The last line of sipp's `-trace_stat` file, by column name (cumulative counts).
fn read_counts(path: &Path) -> anyhow::Result<Counts> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<&str> = lines.next().context("an empty statistics file")?.split(';').collect();
    let last: Vec<&str> = lines.next_back().context("no statistics yet")?.split(';').collect();
    let field = |name: &str| -> anyhow::Result<u64> {
        let i = header.iter().position(|h| *h == name).with_context(|| format!("no {name} column"))?;
        last.get(i).and_then(|v| v.trim().parse().ok()).with_context(|| format!("no number for {name}"))
    };
    Ok(Counts {
        created: field("TotalCallCreated")?,
        current: field("CurrentCall")?,
        successful: field("SuccessfulCall(C)")?,
        failed: field("FailedCall(C)")?,
    })
}
