//! The event loop: terminal input, loader reports and timers become actions; after each
//! batch of actions the screen is drawn once.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use ratatui::crossterm::event::{self, Event, MouseButton, MouseEventKind};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};
use tokio::time::{interval, sleep_until, Instant, MissedTickBehavior};

use super::action::Action;
use super::app::App;
use super::diff_worker::DiffWorker;
use super::keymap;
use super::loader::{Loader, Request};
use super::pager;
use super::terminal::TerminalGuard;
use super::{view, SourceHandle, TuiOptions};
use crate::replay::Reducer;

/// How often live follow asks the source for new events.
const FOLLOW_EVERY: Duration = Duration::from_millis(500);
/// Longest stretch spent applying queued actions before drawing again.
const BATCH_BUDGET: Duration = Duration::from_millis(12);

/// Terminal events arrive on this thread; it stops when `stop` is set, and leaves the
/// terminal alone while `paused` is (another program reads the keys then).
struct Input {
    stop: Arc<AtomicBool>,
    paused: Arc<AtomicBool>,
    /// Set by the thread once it no longer polls: the terminal is free.
    idle: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Input {
    fn spawn(events: UnboundedSender<Event>) -> Input {
        let stop = Arc::new(AtomicBool::new(false));
        let paused = Arc::new(AtomicBool::new(false));
        let idle = Arc::new(AtomicBool::new(false));
        let (stopping, pausing, idling) =
            (Arc::clone(&stop), Arc::clone(&paused), Arc::clone(&idle));
        let thread = std::thread::spawn(move || {
            while !stopping.load(Ordering::Relaxed) {
                if pausing.load(Ordering::SeqCst) {
                    idling.store(true, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                }
                idling.store(false, Ordering::SeqCst);
                match event::poll(Duration::from_millis(50)) {
                    Ok(true) => match event::read() {
                        Ok(ev) => {
                            if events.send(ev).is_err() {
                                break;
                            }
                        }
                        Err(_) => break,
                    },
                    Ok(false) => {}
                    Err(_) => break,
                }
            }
        });
        Input {
            stop,
            paused,
            idle,
            thread: Some(thread),
        }
    }

    /// Stops reading the terminal, once the poll under way has ended.
    fn pause(&self) {
        self.idle.store(false, Ordering::SeqCst);
        self.paused.store(true, Ordering::SeqCst);
        let started = std::time::Instant::now();
        while !self.idle.load(Ordering::SeqCst) && started.elapsed() < Duration::from_secs(1) {
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn resume(&self) {
        self.paused.store(false, Ordering::SeqCst);
    }
}

impl Drop for Input {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn to_action(app: &App, event: Event) -> Option<Action> {
    match event {
        Event::Key(key) => keymap::action_for(app.context(), key),
        Event::Mouse(mouse) => {
            let (column, row) = (mouse.column, mouse.row);
            match mouse.kind {
                MouseEventKind::Down(MouseButton::Left) => Some(Action::Click { column, row }),
                MouseEventKind::Drag(MouseButton::Left) => Some(Action::Drag { column, row }),
                MouseEventKind::ScrollUp => Some(Action::WheelUp { column, row }),
                MouseEventKind::ScrollDown => Some(Action::WheelDown { column, row }),
                _ => None,
            }
        }
        Event::Resize(width, height) => Some(Action::Resize { width, height }),
        _ => None,
    }
}

pub async fn event_loop(
    source: SourceHandle,
    reducer: Option<Arc<dyn Reducer>>,
    options: TuiOptions,
) -> anyhow::Result<()> {
    let source_name = source.name();
    let (report_tx, mut reports) = unbounded_channel::<Action>();
    let diffs = DiffWorker::spawn(report_tx.clone());
    let loader = Loader::spawn(source, report_tx);
    let mut guard = TerminalGuard::enter()?;
    let (input_tx, mut inputs) = unbounded_channel::<Event>();
    let input = Input::spawn(input_tx);
    let size = guard.terminal.size()?;
    let mut app = App::new(
        source_name,
        reducer,
        options.theme,
        ratatui::layout::Rect::new(0, 0, size.width, size.height),
    );
    app.jq_limits = options.jq_limits;
    app.redact = options.redact;
    app.ids = options.ids;
    app.ids_for = options.ids_for;
    app.open_at = options.open_at;
    app.invariant = options.invariant;
    let mut follow = interval(FOLLOW_EVERY);
    follow.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut next_play: Option<Instant> = None;

    loop {
        for request in app.take_requests() {
            match request {
                Request::Diff(job) => diffs.submit(job),
                other => loader.send(other),
            }
        }
        if app.should_quit() {
            break;
        }
        if let Some(text) = app.take_clipboard() {
            copy_to_clipboard(&mut guard, &text)?;
        }
        if let Some(text) = app.take_pager() {
            input.pause();
            guard.suspend();
            let paged = pager::show(&text);
            guard.resume()?;
            input.resume();
            let size = guard.terminal.size()?;
            app.update(Action::Resize {
                width: size.width,
                height: size.height,
            });
            if let Err(error) = paged {
                app.complain(error);
            }
        }
        guard.terminal.draw(|frame| view::render(&app, frame))?;

        next_play = match (app.play_interval(), next_play) {
            (Some(_), Some(at)) => Some(at),
            (Some(every), None) => Some(Instant::now() + every),
            (None, _) => None,
        };
        let first = tokio::select! {
            Some(event) = inputs.recv() => to_action(&app, event),
            Some(action) = reports.recv() => {
                loader.received(&action);
                Some(action)
            }
            _ = sleep_until(next_play.unwrap_or_else(Instant::now)), if next_play.is_some() => {
                next_play = None;
                Some(Action::PlayTick)
            }
            _ = follow.tick(), if app.is_following() => Some(Action::FollowTick),
            _ = std::future::ready(()), if app.has_backlog() => Some(Action::Digest),
        };
        if let Some(action) = first {
            app.update(action);
        }
        drain(&mut app, &loader, &mut inputs, &mut reports);
        loader.set_backlog(app.backlog());
    }
    loader.cancel_all();
    Ok(())
}

/// Hands `text` to the terminal's clipboard with OSC 52 (crossterm encodes it); terminals
/// without it ignore the sequence.
fn copy_to_clipboard(guard: &mut TerminalGuard, text: &str) -> std::io::Result<()> {
    use ratatui::crossterm::clipboard::CopyToClipboard;
    ratatui::crossterm::execute!(
        guard.terminal.backend_mut(),
        CopyToClipboard::to_clipboard_from(text)
    )
}

/// Applies whatever else is already queued, so a burst of keys or chunks costs one frame.
fn drain(
    app: &mut App,
    loader: &Loader,
    inputs: &mut UnboundedReceiver<Event>,
    reports: &mut UnboundedReceiver<Action>,
) {
    let started = std::time::Instant::now();
    while started.elapsed() < BATCH_BUDGET && !app.should_quit() {
        if let Ok(event) = inputs.try_recv() {
            if let Some(action) = to_action(app, event) {
                app.update(action);
            }
        } else if let Ok(action) = reports.try_recv() {
            loader.received(&action);
            app.update(action);
        } else if app.has_backlog() {
            app.update(Action::Digest);
        } else {
            break;
        }
    }
}
