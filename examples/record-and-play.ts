/**
 * agikit example: an answering-machine IVR in the manner of Aculab Cloud's FileRecorder and
 * FilePlayer. It answers, asks for a message ("Please leave your message after the tone…"), records
 * it until the caller presses a key, stays silent for 3 s, hangs up or talks for 60 s, then plays the
 * message back and says goodbye.
 *
 * Run it as a FastAGI server (the media directory must be one Asterisk reaches: same host, or a
 * shared / mounted directory, see `MediaDirectory`):
 *
 *     AGIKIT_MEDIA_DIR=/var/lib/agikit-media node dist/examples/record-and-play.js
 *     # Asterisk in a container that mounts it elsewhere: AGIKIT_ASTERISK_MEDIA_DIR=/media
 *
 * and from the dialplan:
 *
 *     exten => 200,1,AGI(agi://127.0.0.1:4573/record-and-play)
 *      same => n,Verbose(1,message ${AGIKIT_MESSAGE_CAUSE}, playback ${AGIKIT_PLAYBACK_CAUSE})
 *
 * Or mount it in your own server: `new FastAgiServer({ router: recordAndPlayRouter({ directory }) })`.
 * The transport knows nothing of media: each call's handler makes its own `FilePlayer` and
 * `FileRecorder` with the media options it was built with.
 */
import { fileURLToPath } from 'node:url';
import { FastAgiServer, FilePlayer, FileRecorder, PlayCause, RecordCause, Router, type AgiHandler, type MediaOptions } from 'agikit';

/** The route's handler: record a message, play it back. */
export function recordAndPlay(media: MediaOptions): AgiHandler {
  return async (agi) => {
    await agi.answer();
    const player = new FilePlayer(agi, media);
    const recorder = new FileRecorder(agi, media);

    await player.play('vm-intro');
    await player.play('beep');
    const cause = await recorder.record(`messages/${agi.env.uniqueid}`, {
      fileFormat: 'wav',
      bargeIn: true,
      msMaxSilence: 3000,
      secondsTimeout: 60,
    });
    agi.log.info({ cause, digit: recorder.digit(), audio: recorder.audioDetectedInRecording(), file: recorder.recordedFile() }, 'message recorded');
    await agi.setVariable('AGIKIT_MESSAGE_CAUSE', cause);
    if (cause === RecordCause.HANGUP) return;

    const message = recorder.recordedFile();
    if (cause === RecordCause.ERROR || message === null || recorder.audioDetectedInRecording() === false) {
      // Nothing worth playing back (null means agikit could not read the file: play it anyway).
      await player.play('vm-sorry');
    } else {
      await player.play('vm-message');
      const played = await player.play(message, { bargeIn: true });
      await agi.setVariable('AGIKIT_PLAYBACK_CAUSE', played);
      if (played === PlayCause.HANGUP) return;
    }
    await player.play('vm-goodbye');
    await agi.hangup();
  };
}

/** The application with its media settings: one route, `/record-and-play`. */
export function recordAndPlayRouter(media: MediaOptions): Router {
  return new Router().route('/record-and-play', recordAndPlay(media));
}

/** Media settings from `AGIKIT_MEDIA_DIR` (and `AGIKIT_ASTERISK_MEDIA_DIR`); none when unset. */
export function mediaFromEnvironment(): MediaOptions {
  const local = process.env['AGIKIT_MEDIA_DIR'];
  const asterisk = process.env['AGIKIT_ASTERISK_MEDIA_DIR'];
  if (!local) return {};
  return { directory: asterisk ? { local, asterisk } : { local } };
}

/** For `agikit serve` / `agikit simulate`: the application with the media directory from the environment. */
export default recordAndPlayRouter(mediaFromEnvironment());

// Run as a program: a FastAGI server on port 4573 (AGIKIT_PORT) with the media directory from the environment.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const media = mediaFromEnvironment();
  if (!media.directory) {
    console.error('set AGIKIT_MEDIA_DIR to a directory Asterisk can reach (and AGIKIT_ASTERISK_MEDIA_DIR if Asterisk sees it elsewhere)');
    process.exit(2);
  }
  const server = new FastAgiServer({ port: Number(process.env['AGIKIT_PORT'] ?? 4573), router: recordAndPlayRouter(media) });
  const { port } = await server.listen();
  server.log.info({ port }, 'record-and-play listening');
}
