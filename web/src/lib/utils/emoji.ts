/**
 * `:shortcode:` → emoji, converted in the composer as the closing colon is typed. A curated table
 * of the names people type most (Slack and GitHub spell them the same way), not the full Unicode
 * list: it ships in the first page load, and an unknown name simply stays as typed.
 */
export const SHORTCODES: Readonly<Record<string, string>> = {
  smile: '😄', smiley: '😃', grin: '😁', grinning: '😀', laughing: '😆', joy: '😂', rofl: '🤣', sweat_smile: '😅',
  slightly_smiling_face: '🙂', upside_down_face: '🙃', wink: '😉', blush: '😊', innocent: '😇', heart_eyes: '😍',
  kissing_heart: '😘', yum: '😋', stuck_out_tongue: '😛', stuck_out_tongue_winking_eye: '😜', zany_face: '🤪',
  thinking: '🤔', thinking_face: '🤔', raised_eyebrow: '🤨', neutral_face: '😐', expressionless: '😑', no_mouth: '😶',
  smirk: '😏', unamused: '😒', roll_eyes: '🙄', grimacing: '😬', relieved: '😌', pensive: '😔', sleepy: '😪',
  sleeping: '😴', mask: '😷', nerd_face: '🤓', sunglasses: '😎', partying_face: '🥳', confused: '😕', worried: '😟',
  slightly_frowning_face: '🙁', open_mouth: '😮', hushed: '😯', astonished: '😲', flushed: '😳', pleading_face: '🥺',
  fearful: '😨', cold_sweat: '😰', cry: '😢', sob: '😭', scream: '😱', angry: '😠', rage: '😡', exploding_head: '🤯',
  skull: '💀', poop: '💩', clown_face: '🤡', ghost: '👻', alien: '👽', robot: '🤖', see_no_evil: '🙈', hugs: '🤗',
  shushing_face: '🤫', face_with_hand_over_mouth: '🤭', yawning_face: '🥱', facepalm: '🤦', shrug: '🤷',
  '+1': '👍', thumbsup: '👍', '-1': '👎', thumbsdown: '👎', ok_hand: '👌', v: '✌️', crossed_fingers: '🤞',
  wave: '👋', clap: '👏', raised_hands: '🙌', pray: '🙏', muscle: '💪', point_up: '☝️', point_right: '👉',
  point_left: '👈', eyes: '👀', handshake: '🤝', writing_hand: '✍️', metal: '🤘', call_me_hand: '🤙',
  heart: '❤️', orange_heart: '🧡', yellow_heart: '💛', green_heart: '💚', blue_heart: '💙', purple_heart: '💜',
  black_heart: '🖤', broken_heart: '💔', sparkling_heart: '💖', two_hearts: '💕',
  tada: '🎉', confetti_ball: '🎊', balloon: '🎈', gift: '🎁', trophy: '🏆', medal: '🥇', star: '⭐', star2: '🌟',
  sparkles: '✨', zap: '⚡', fire: '🔥', boom: '💥', '100': '💯', white_check_mark: '✅', heavy_check_mark: '✔️',
  x: '❌', warning: '⚠️', question: '❓', exclamation: '❗', bulb: '💡', pushpin: '📌', paperclip: '📎', link: '🔗',
  memo: '📝', calendar: '📅', alarm_clock: '⏰', hourglass: '⌛', rocket: '🚀', hammer_and_wrench: '🛠️', bug: '🐛',
  lock: '🔒', key: '🔑', bell: '🔔', no_bell: '🔕', mag: '🔍', chart_with_upwards_trend: '📈', moneybag: '💰',
  coffee: '☕', tea: '🍵', beer: '🍺', beers: '🍻', wine_glass: '🍷', pizza: '🍕', hamburger: '🍔', cake: '🍰',
  birthday: '🎂', cookie: '🍪', apple: '🍎', sunny: '☀️', cloud: '☁️', umbrella: '☔', snowflake: '❄️',
  rainbow: '🌈', ocean: '🌊', earth_africa: '🌍', seedling: '🌱', four_leaf_clover: '🍀', cherry_blossom: '🌸',
  sunflower: '🌻', dog: '🐶', cat: '🐱', fox_face: '🦊', bear: '🐻', panda_face: '🐼', monkey: '🐵', unicorn: '🦄',
  bee: '🐝', butterfly: '🦋', turtle: '🐢', snake: '🐍', octopus: '🐙', computer: '💻', phone: '📱', email: '📧',
  package: '📦', books: '📚', pencil2: '✏️', scissors: '✂️', wrench: '🔧', gear: '⚙️', soccer: '⚽', car: '🚗',
  airplane: '✈️', house: '🏠', clock: '🕐', stopwatch: '⏱️', recycle: '♻️', checkered_flag: '🏁', triangular_flag_on_post: '🚩',
};

const CLOSING = /(^|[\s([{"'*_~>]):([a-z0-9_+-]{1,40}):$/;

/**
 * When the text before the caret ends in a known `:name:`, returns the text with the emoji in
 * its place and where the caret goes; null otherwise (an unknown name, a time such as 10:30:,
 * a path such as /a/:id:, or a colon that closes nothing). A name starts the text or follows a
 * space, an opening bracket or quote, or Markdown's markers.
 */
export function completeShortcode(text: string, caret: number): { text: string; caret: number } | null {
  const before = text.slice(0, caret);
  const m = CLOSING.exec(before);
  if (!m) return null;
  const emoji = Object.hasOwn(SHORTCODES, m[2]!) ? SHORTCODES[m[2]!] : undefined;
  if (!emoji) return null;
  const start = before.length - m[2]!.length - 2;
  return { text: text.slice(0, start) + emoji + text.slice(caret), caret: start + emoji.length };
}
