// shomei portal — texts in Japanese (first) and English, and the language switch.
//
// Markup names its texts with attributes, and applyI18n() fills them in:
//   data-i18n="key"              textContent
//   data-i18n-placeholder="key"  placeholder
//   data-i18n-aria-label="key"   aria-label
//   data-i18n-title="key"        title
// The chosen language lives in localStorage ("shomei.lang"); Japanese is the default.

const STORAGE_KEY = 'shomei.lang';
export const LANGS = ['ja', 'en'];

const ja = {
  'app.name': 'shomei',
  'app.title': 'クライアント証明書発行サイト',
  'app.footer': 'shomei プライベート認証局',
  'lang.label': '表示言語',

  // login.html
  'login.doc_title': 'ログイン | クライアント証明書発行サイト',
  'login.heading': '管理者ログイン',
  'login.lead': 'あらかじめ通知されたログインIDとパスワードを入力してください。',
  'login.login_id': 'ログインID',
  'login.password': 'パスワード',
  'login.remember': 'この情報をブラウザに保存する',
  'login.remember_hint': '保存されるのはログインIDのみです。パスワードは保存されません。',
  'login.submit': 'ログイン',
  'login.submitting': 'ログインしています…',
  'login.or': 'または',
  'login.certificate': '証明書でログイン',
  'login.certificate_hint':
    '管理者用証明書をインストールしたブラウザでは、ログインIDとパスワードを入力せずにログインできます。',
  'login.err.required_login_id': 'ログインIDを入力してください。',
  'login.err.required_password': 'パスワードを入力してください。',
  'login.err.invalid': 'ログインIDまたはパスワードが正しくありません。',
  'login.err.locked':
    'ログインに続けて失敗したため、現在このアカウントではログインできません。しばらく時間をおいてから、もう一度お試しください。',
  'login.err.locked_retry': '約{minutes}分後に、もう一度お試しください。',
  'login.err.validation': '入力内容に誤りがあります。',
  'login.err.certificate':
    '証明書でログインできませんでした。管理者用証明書がブラウザにインストールされ、選択されていることを確認してください。',
  'login.err.certificate_hint': '管理者用証明書がブラウザにインストールされ、選択されていることを確認してください。',
  'login.msg.logged_out': 'ログアウトしました。',
  'login.msg.expired': 'セッションの有効期限が切れました。もう一度ログインしてください。',

  // common
  'common.loading': '読み込み中…',
  'common.err.network': 'サーバーに接続できませんでした。しばらくしてから、もう一度お試しください。',
  'common.err.timeout': 'サーバーからの応答がありません。しばらくしてから、もう一度お試しください。',
  'common.err.server': 'エラーが発生しました。しばらくしてから、もう一度お試しください。',
  'common.err.forbidden': 'この操作は許可されていません。ページを再読み込みしてから、もう一度お試しください。',
  'common.retry': '再読み込み',

  // index.html frame
  'portal.doc_title': 'クライアント証明書発行サイト',
  'portal.tenant': 'ご利用者様名',
  'portal.domain': 'ドメイン名',
  'portal.logged_in_as': 'ログインID',
  'portal.menu_label': 'メニュー',
  'menu.certificates': '証明書管理',
  'menu.users': '利用者',
  'menu.audit': '操作履歴',
  'menu.settings': '設定',
  'menu.password': 'パスワード変更',
  'menu.logout': 'ログアウト',

  // 操作履歴
  'audit.title': '操作履歴一覧',
  'audit.date': '操作日',
  'audit.date_from': '操作日（開始）',
  'audit.date_to': '操作日（終了）',
  'audit.action': '操作内容',
  'audit.detail': '詳細',
  'audit.detail_placeholder': '詳細に含まれる文字',
  'audit.search': '検索',
  'audit.clear': 'クリア',
  'audit.col.at': '操作日時',
  'audit.col.ip': 'アクセス元IP',
  'audit.col.action': '操作内容',
  'audit.col.detail': '詳細',
  'audit.empty': '条件に一致する操作履歴はありません。',
  'audit.err.range': '操作日の開始日には、終了日以前の日付を指定してください。',
  'audit.err.date': '操作日の日付が正しくありません。',

  'action.all': 'すべて',
  'action.login': 'ログイン',
  'action.logout': 'ログアウト',
  'action.certificate_issue': '証明書追加発行',
  'action.certificate_revoke': '証明書失効',
  'action.certificate_reissue': '証明書再発行',
  'action.certificate_download': '証明書ダウンロード',
  'action.password_csv': 'パスワードCSV',
  'action.ip_restriction': 'IPアドレス制限設定',
  'action.password_change': 'パスワード変更',
  'action.user_register': '利用者登録',
  'action.user_import': 'CSV一括登録',
  'action.user_delete': '利用者削除',
  'action.settings': '設定変更',

  'pager.summary': '全 {total} 件中 {from}～{to} 件を表示',
  'pager.summary_empty': '全 0 件',
  'pager.page': '{page} / {pages} ページ',
  'pager.prev': '前へ',
  'pager.next': '次へ',
  'pager.label': 'ページ切り替え',

  // パスワード変更
  'password.title': 'パスワード変更',
  'password.current': '現在のパスワード',
  'password.new': '新しいパスワード',
  'password.confirm': '新しいパスワード (確認用)',
  'password.note': 'パスワードは、8文字以上16文字以内の半角英数字を入力してください。',
  'password.submit': '変更',
  'password.submitting': '変更しています…',
  'password.success': 'パスワードを変更しました。次回のログインから新しいパスワードをお使いください。',
  'password.err.summary': '入力内容に誤りがあります。各項目のメッセージをご確認ください。',
  'password.err.required_current': '現在のパスワードを入力してください。',
  'password.err.required_new': '新しいパスワードを入力してください。',
  'password.err.required_confirm': '新しいパスワード (確認用) を入力してください。',
  'password.err.length': 'パスワードは8文字以上16文字以内で入力してください。',
  'password.err.charset': 'パスワードには半角英数字（A～Z、a～z、0～9）のみ使用できます。',
  'password.err.mismatch': '新しいパスワードと新しいパスワード (確認用) が一致しません。',
  'password.err.same': '新しいパスワードは現在のパスワードと異なるものにしてください。',

  // 証明書管理
  'certs.title': '証明書管理',
  'certs.quota': '契約数',
  'certs.issued': '発行数',
  'certs.available': '追加発行可能数',
  'certs.add': '追加',
  'certs.issuing_notice': '発行中の証明書があります。発行が終わるまで、一覧は自動で更新されます。',
  'certs.show': '表示',
  'certs.show_valid': '有効のみ',
  'certs.show_all': 'すべて',
  'certs.cn': 'コモンネーム',
  'certs.cn_placeholder': '例: client_000001',
  'certs.issued_at': '発行日',
  'certs.issued_from': '発行日（開始）',
  'certs.issued_to': '発行日（終了）',
  'certs.revoked_at': '失効日',
  'certs.search': '検索',
  'certs.clear': 'クリア',
  'certs.download': '証明書ダウンロード',
  'certs.password_csv': 'パスワードリストCSV',
  'certs.download_hint': '有効な証明書すべての PKCS#12 ファイル (.p12) と CA 証明書を ZIP でダウンロードします。',
  'certs.password_csv_hint': '有効な証明書すべての PKCS#12 パスワードの一覧を CSV でダウンロードします。',
  'certs.refresh': '画面更新',
  'certs.sort_asc': '発行日の古い順に並べ替え',
  'certs.sort_desc': '発行日の新しい順に並べ替え',
  'certs.issuing': '発行中...',
  'certs.failed': '発行失敗',
  'certs.retry': '再試行',
  'certs.retried': '{cn} の発行を再試行します。発行状況は一覧でご確認ください。',
  'certs.empty': '条件に一致する証明書はありません。',
  'certs.err.date': '発行日の日付が正しくありません。',
  'certs.err.range': '発行日の開始日には、終了日以前の日付を指定してください。',
  'certs.add_title': 'クライアント証明書追加発行',
  'certs.add_quota': '契約ライセンス数',
  'certs.add_issued': '発行数',
  'certs.add_count': '追加発行数',
  'certs.add_note_status': '発行状況はクライアント証明書一覧のステータスをご確認ください。',
  'certs.add_note_issuing': '発行中は追加発行ができません。',
  'certs.add_note_remaining': '※ お客様が追加発行できる残りの数は{n}です。',
  'certs.add_back': '戻る',
  'certs.add_submit': '追加発行',
  'certs.add_confirm': 'クライアント証明書を{n}枚追加発行します。よろしいですか？',
  'certs.add_confirm_hint': '発行が終わるまで、一覧には「発行中...」と表示されます。',
  'certs.add_cancel': 'キャンセル',
  'certs.add_ok': 'OK',
  'certs.added': 'クライアント証明書の追加発行を受け付けました（{n}枚）。発行状況は一覧でご確認ください。',
  'certs.err.count_required': '追加発行数を入力してください。',
  'certs.err.count_format': '追加発行数は1以上の半角数字で入力してください。',
  'certs.err.count_over': '追加発行数は、追加発行できる残りの数（{n}）以下で入力してください。',
  'certs.err.issuing': '発行中の証明書があります。発行中は追加発行ができません。',
  'certs.err.none_left': '追加発行できる残りの数がありません。',
  'certs.revoke': '選択したものを失効',
  'certs.revoke_hint': 'チェックした証明書を、ただちに、または指定した日に失効します。',
  'certs.select_all': '表示中の証明書をすべて選択',
  'certs.select': '{cn} を選択',
  'certs.scheduled': '失効予定',
  'certs.scheduled_on': '失効予定 {date}',
  'certs.revoke_undo': '取消',
  'certs.revoke_undone': '{cn} の失効予定を取り消しました。',
  'certs.revoke_title': 'クライアント証明書の失効',
  'certs.revoke_confirm': '次の{n}枚のクライアント証明書を失効します。よろしいですか？',
  'certs.revoke_when': '失効日',
  'certs.revoke_now': 'ただちに、失効する',
  'certs.revoke_date': '日付を指定して、失効する',
  'certs.revoke_on': '失効する日付',
  'certs.revoke_date_hint': '明日から30日以内の日付を指定できます。指定した日の午前0時に失効します。',
  'certs.revoke_warning': '失効した証明書は元に戻せません。',
  'certs.revoke_submit': '失効',
  'certs.revoked_done': 'クライアント証明書を失効しました（{n}枚）。',
  'certs.revoke_scheduled_done': 'クライアント証明書を {date} に失効する予定です（{n}枚）。',
  'certs.err.none_selected': '失効する証明書をチェックしてください。',
  'certs.err.revoke_on': '失効日には、明日から30日以内の日付を指定してください。',

  'status.issuing': '証明書発行中',
  'status.issued': '証明書発行済',
  'status.downloaded': '証明書ダウンロード済',
  'status.revoke_scheduled': '証明書失効予定',
  'status.revoked': '証明書失効済',
  'status.failed': '証明書発行失敗',

  'device.01': 'WindowsPC',
  'device.11': 'iOS(iPhone)',
  'device.12': 'iOS(iPad)',
  'device.99': 'その他',
  'device.20': 'Android',

  // 利用者
  'users.title': '利用者',
  'users.organization': '組織名',
  'users.new': '新規追加',
  'imp.open': 'CSV一括登録',
  'imp.title': 'CSV一括登録',
  'imp.file': 'CSV ファイル',
  'imp.layout': 'この契約の CSV は {n} 項目です（{cols}）。1 行が 1 台のデバイスで、同じ代表メールアドレスの行は同じ利用者になります。UTF-8 でも Shift_JIS（Excel、メモ帳）でも読み込めます。',
  'imp.admin_download': '管理者一括ダウンロード用に発行する',
  'imp.admin_download_hint': '管理者一括ダウンロードをご利用の場合は、インストール制限機能はご利用いただけません。',
  'imp.lines_caption': 'エラーのある行（ファイルは登録されていません）',
  'imp.col.line': '行',
  'imp.col.column': '項目',
  'imp.col.message': '内容',
  'imp.cancel': '閉じる',
  'imp.submit': '登録',
  'imp.no_file': 'CSV ファイルを選択してください。',
  'imp.queued': '{file} を受け付けました（利用者 {users} 名、証明書 {devices} 件）。処理状況は「CSV 処理状況」でご確認ください。',
  'imp.jobs_title': 'CSV 処理状況',
  'imp.col.created': '受付日時',
  'imp.col.kind': '処理',
  'imp.col.file': 'ファイル名',
  'imp.col.status': '状況',
  'imp.col.progress': '処理件数',
  'imp.col.finished': '終了日時',
  'imp.progress': '{done} / {total} 名',
  'imp.job_errors': '{file} の処理は失敗しました:',
  'users.issuing_notice': '発行中の証明書があります。発行が終わるまで、一覧は自動で更新されます。',
  'users.search_conditions': '検索条件',
  'users.s.family_name': '利用者名（姓）',
  'users.s.given_name': '利用者名（名）',
  'users.s.email': 'メールアドレス',
  'users.s.applied': '証明書申請日',
  'users.s.applied_from': '証明書申請日（開始）',
  'users.s.applied_to': '証明書申請日（終了）',
  'users.s.issued': '証明書発行日',
  'users.s.issued_from': '証明書発行日（開始）',
  'users.s.issued_to': '証明書発行日（終了）',
  'users.s.expires': '証明書終了日',
  'users.s.expires_from': '証明書終了日（開始）',
  'users.s.expires_to': '証明書終了日（終了）',
  'users.s.status': '証明書ステータス',
  'users.s.device': 'デバイス種別',
  'users.s.submit': '検索実行',
  'users.s.clear': 'クリア',
  'users.filtered': '検索条件で絞り込んで表示しています。',
  'users.col.name': '利用者名',
  'users.col.email': 'メールアドレス',
  'users.col.applied': '申請日',
  'users.col.device': '利用デバイス',
  'users.col.status': 'ステータス',
  'users.col.issued': '発行日',
  'users.col.expires': '終了日',
  'users.no_certificates': '証明書はありません',
  'users.empty': '条件に一致する利用者はいません。',
  'users.err.date': '日付が正しくありません。',
  'users.err.range': '{what}の開始日には、終了日以前の日付を指定してください。',

  // 利用者登録
  'reg.title': '利用者登録',
  'reg.close': '閉じる',
  'reg.step.input': '利用者登録情報入力',
  'reg.step.confirm': '利用者登録情報 入力内容の確認',
  'reg.step.done': '利用者登録の完了',
  'reg.lead': '利用者情報を入力してください。',
  'reg.section_user': '■ 利用者情報',
  'reg.section_devices': '■ 利用デバイス',
  'reg.company': '会社名',
  'reg.organization': '組織名',
  'reg.name': '氏名',
  'reg.family_name': '氏名（姓）',
  'reg.given_name': '氏名（名）',
  'reg.family_name_kana': '氏名（姓）フリガナ',
  'reg.given_name_kana': '氏名（名）フリガナ',
  'reg.family_name_en': '氏名（姓）英語表記',
  'reg.given_name_en': '氏名（名）英語表記',
  'reg.email': 'メールアドレス',
  'reg.ph.family_name': '例: 山田',
  'reg.ph.given_name': '例: 太郎',
  'reg.ph.family_name_kana': '例: ヤマダ',
  'reg.ph.given_name_kana': '例: タロウ',
  'reg.ph.family_name_en': '例: Yamada',
  'reg.ph.given_name_en': '例: Taro',
  'reg.ph.email': '例: yamada-taro@example.com',
  'reg.ph.sub_email': '未入力の場合はメールアドレス',
  'reg.ph.datetime': 'yyyy/mm/dd [hh:mm]',
  'reg.ph.mac': '例: 00A0C9123456',
  'reg.note_stored':
    '［氏名（姓）英語表記］［氏名（名）英語表記］［メールアドレス］の入力内容は、発行するクライアント証明書に格納されますので、正確に入力してください。',
  'reg.note_email': 'メールアドレスに使用できる記号は半角でドット"."、アンダーバー"_"、ハイフン"-"のみです。',
  'reg.note_devices':
    '利用者が複数のデバイスでクライアント証明書を使用する場合は、複数のデバイスを選択します。たとえば［WindowsPC］と［iOS(iPhone)］を選択した場合は、WindowsPC用とiOS(iPhone)用の2枚の電子証明書が発行されます。',
  'reg.note_submail':
    'サブメールアドレスを入力すると、そのデバイスの証明書にはサブメールアドレスが格納されます。未入力の場合はメールアドレスが使われます。',
  'reg.note_validity':
    '証明書有効期限は、期間指定は yyyy/mm/dd、期間+時間指定は yyyy/mm/dd hh:mm の形式で入力可能です。未入力の場合は標準の有効期間になります。',
  'reg.note_org':
    'Organization、OrganizationUnit1、OrganizationUnit2 のすべてに値を設定しない場合は、発行証明書のサブジェクト組織名に「利用法人会社名（英語表記）」が設定されます。',
  'reg.note_restriction':
    '※インストール制限機能は WindowsPC のみご利用いただけます。制限項目が空欄の場合は該当の項目の制限は行いません。',
  'reg.note_modes':
    '制限なし：インストール時の制限無し ／ どれかの条件と一致 (OR)：入力した制限項目が 1 つ以上一致した端末のみインストール可能 ／ すべての条件と一致 (AND)：入力した制限項目すべて一致した端末のみインストール可能',
  'reg.note_mac': 'MAC アドレスは、ハイフン"-"、コロン":"を省略した 12 桁の 16 進数 (0~F) で入力してください。',
  'reg.sub_email': 'サブメールアドレス',
  'reg.validity': '証明書有効期限',
  'reg.valid_from': '証明書有効期限(From)',
  'reg.valid_to': '証明書有効期限(To)',
  'reg.org_units': 'O、OU 指定',
  'reg.o': 'Organization',
  'reg.ou1': 'OrganizationUnit1',
  'reg.ou2': 'OrganizationUnit2',
  'reg.restriction': 'インストール制限',
  'reg.restriction_mode': '利用デバイス制限',
  'reg.mode.none': '制限なし',
  'reg.mode.or': 'どれかの条件と一致 (OR)',
  'reg.mode.and': 'すべての条件と一致 (AND)',
  'reg.mac': '制限項目① MACアドレス',
  'reg.computer': '制限項目② コンピュータ名',
  'reg.login_user': '制限項目③ ログインユーザ名',
  'reg.bios_serial': '制限項目④ 端末(BIOS)シリアル番号',
  'reg.restriction_na': '－',
  'reg.same_as_email': '（メールアドレスと同じ）',
  'reg.default_validity': '（標準）',
  'reg.col.device': '利用デバイス',
  'reg.col.cn': 'コモンネーム',
  'reg.col.email': '証明書メールアドレス',
  'reg.cancel': 'キャンセル',
  'reg.clear': 'クリア',
  'reg.confirm': '確認',
  'reg.confirm_lead': '入力した利用者情報に問題がないかご確認ください。問題がない場合は、決定ボタンを押下してください。',
  'reg.back': '戻る',
  'reg.submit': '決定',
  'reg.submitting': '登録しています…',
  'reg.done_lead': '利用者の登録が完了しました。',
  'reg.done_issuing': 'クライアント証明書を発行しています。発行状況は利用者一覧のステータスでご確認いただけます。',
  'reg.done_notify': '登録した利用者のメールアドレスに、クライアント証明書のインストールに必要な情報が送信されます。',
  'reg.close_button': '閉じる',
  'reg.registered': '利用者「{name}」を登録しました。',
  'reg.err.summary': '入力内容に誤りがあります。各項目のメッセージをご確認ください。',
  'reg.err.required.family_name': '氏名（姓）を入力してください。',
  'reg.err.required.given_name': '氏名（名）を入力してください。',
  'reg.err.required.family_name_kana': '氏名（姓）フリガナを入力してください。',
  'reg.err.required.given_name_kana': '氏名（名）フリガナを入力してください。',
  'reg.err.required.family_name_en': '氏名（姓）英語表記を入力してください。',
  'reg.err.required.given_name_en': '氏名（名）英語表記を入力してください。',
  'reg.err.required.email': 'メールアドレスを入力してください。',
  'reg.err.name': '50文字以内で入力してください（制御文字、前後の空白は使えません）。',
  'reg.err.kana': 'フリガナは全角カタカナ50文字以内で入力してください。',
  'reg.err.name_en': "英語表記は半角英字で始まる50文字以内で入力してください（記号は空白 . ' - のみ）。",
  'reg.err.cn_long': '英語表記の姓と名は、合わせて63文字以内で入力してください（証明書のコモンネームの上限）。',
  'reg.err.org_unit': '半角英数字・記号で64文字以内で入力してください。',
  'reg.err.item': '64文字以内で入力してください（制御文字は使えません）。',
  'reg.err.restriction_empty':
    'どれかの条件と一致 (OR)、すべての条件と一致 (AND) の場合は制限項目を1つ以上入力してください。',
  'reg.err.email_format':
    'メールアドレスの形式が正しくありません。使用できる記号は半角でドット"."、アンダーバー"_"、ハイフン"-"のみです。',
  'reg.err.device_required': '利用デバイスを1つ以上選択してください。',
  'reg.err.datetime': 'yyyy/mm/dd または yyyy/mm/dd hh:mm の形式で、正しい日付を入力してください。',
  'reg.err.period_order': '証明書有効期限(To)には、証明書有効期限(From)より後の日時を入力してください。',
  'reg.err.mac': 'MACアドレスは、ハイフン・コロンを省略した12桁の16進数（0～9、A～F）で入力してください。',
};

const en = {
  'app.name': 'shomei',
  'app.title': 'Client Certificate Portal',
  'app.footer': 'shomei private certificate authority',
  'lang.label': 'Language',

  'login.doc_title': 'Log in | Client Certificate Portal',
  'login.heading': 'Administrator login',
  'login.lead': 'Enter the login ID and password you were given.',
  'login.login_id': 'Login ID',
  'login.password': 'Password',
  'login.remember': 'Remember this information in this browser',
  'login.remember_hint': 'Only the login ID is stored. The password is never stored.',
  'login.submit': 'Log in',
  'login.submitting': 'Logging in…',
  'login.or': 'or',
  'login.certificate': 'Log in with certificate',
  'login.certificate_hint':
    'If the administrator certificate is installed in this browser, you can log in without a login ID and password.',
  'login.err.required_login_id': 'Enter your login ID.',
  'login.err.required_password': 'Enter your password.',
  'login.err.invalid': 'The login ID or password is incorrect.',
  'login.err.locked':
    'Too many failed login attempts: this account cannot log in right now. Please wait a while and try again later.',
  'login.err.locked_retry': 'Please try again in about {minutes} minutes.',
  'login.err.validation': 'Some of the input is not valid.',
  'login.err.certificate':
    'Could not log in with a certificate. Make sure the administrator certificate is installed in this browser and selected.',
  'login.err.certificate_hint': 'Make sure the administrator certificate is installed in this browser and selected.',
  'login.msg.logged_out': 'You have been logged out.',
  'login.msg.expired': 'Your session has expired. Please log in again.',

  'common.loading': 'Loading…',
  'common.err.network': 'Could not reach the server. Please try again in a moment.',
  'common.err.timeout': 'The server did not answer. Please try again in a moment.',
  'common.err.server': 'Something went wrong. Please try again in a moment.',
  'common.err.forbidden': 'This operation is not allowed. Reload the page and try again.',
  'common.retry': 'Reload',

  'portal.doc_title': 'Client Certificate Portal',
  'portal.tenant': 'Organization',
  'portal.domain': 'Domain',
  'portal.logged_in_as': 'Login ID',
  'portal.menu_label': 'Menu',
  'menu.certificates': 'Certificates',
  'menu.users': 'Users',
  'menu.audit': 'Operation history',
  'menu.settings': 'Settings',
  'menu.password': 'Change password',
  'menu.logout': 'Log out',

  'audit.title': 'Operation history',
  'audit.date': 'Date',
  'audit.date_from': 'Date (from)',
  'audit.date_to': 'Date (to)',
  'audit.action': 'Operation',
  'audit.detail': 'Details',
  'audit.detail_placeholder': 'Text in the details',
  'audit.search': 'Search',
  'audit.clear': 'Clear',
  'audit.col.at': 'Date and time',
  'audit.col.ip': 'Source IP',
  'audit.col.action': 'Operation',
  'audit.col.detail': 'Details',
  'audit.empty': 'No operations match these conditions.',
  'audit.err.range': 'The start date must be on or before the end date.',
  'audit.err.date': 'The date is not valid.',

  'action.all': 'All',
  'action.login': 'Login',
  'action.logout': 'Logout',
  'action.certificate_issue': 'Certificate issuance',
  'action.certificate_revoke': 'Certificate revocation',
  'action.certificate_reissue': 'Certificate reissue',
  'action.certificate_download': 'Certificate download',
  'action.password_csv': 'Password CSV',
  'action.ip_restriction': 'IP address restriction',
  'action.password_change': 'Password change',
  'action.user_register': 'User registration',
  'action.user_import': 'CSV bulk registration',
  'action.user_delete': 'User deletion',
  'action.settings': 'Settings change',

  'pager.summary': 'Showing {from}–{to} of {total}',
  'pager.summary_empty': '0 entries',
  'pager.page': 'Page {page} of {pages}',
  'pager.prev': 'Previous',
  'pager.next': 'Next',
  'pager.label': 'Pages',

  'password.title': 'Change password',
  'password.current': 'Current password',
  'password.new': 'New password',
  'password.confirm': 'New password (confirm)',
  'password.note': 'Use 8 to 16 half-width alphanumeric characters (A–Z, a–z, 0–9).',
  'password.submit': 'Change',
  'password.submitting': 'Changing…',
  'password.success': 'Your password has been changed. Use the new password from your next login.',
  'password.err.summary': 'Some of the input is not valid. See the message under each field.',
  'password.err.required_current': 'Enter your current password.',
  'password.err.required_new': 'Enter a new password.',
  'password.err.required_confirm': 'Enter the new password again to confirm it.',
  'password.err.length': 'The password must be 8 to 16 characters long.',
  'password.err.charset': 'The password may contain only half-width letters and digits (A–Z, a–z, 0–9).',
  'password.err.mismatch': 'The two new passwords do not match.',
  'password.err.same': 'The new password must differ from the current one.',

  'certs.title': 'Certificates',
  'certs.quota': 'Licenses',
  'certs.issued': 'Issued',
  'certs.available': 'Available',
  'certs.add': 'Add',
  'certs.issuing_notice': 'Some certificates are being issued. The list refreshes itself until they are done.',
  'certs.show': 'Show',
  'certs.show_valid': 'Valid only',
  'certs.show_all': 'All',
  'certs.cn': 'Common name',
  'certs.cn_placeholder': 'e.g. client_000001',
  'certs.issued_at': 'Issued on',
  'certs.issued_from': 'Issued on (from)',
  'certs.issued_to': 'Issued on (to)',
  'certs.revoked_at': 'Revoked on',
  'certs.search': 'Search',
  'certs.clear': 'Clear',
  'certs.download': 'Download certificates',
  'certs.password_csv': 'Password list CSV',
  'certs.download_hint': 'Download the PKCS#12 files (.p12) of every valid certificate and the CA certificates as a ZIP.',
  'certs.password_csv_hint': 'Download the PKCS#12 passwords of every valid certificate as a CSV file.',
  'certs.refresh': 'Refresh',
  'certs.sort_asc': 'Sort by issue date, oldest first',
  'certs.sort_desc': 'Sort by issue date, newest first',
  'certs.issuing': 'Issuing...',
  'certs.failed': 'Failed',
  'certs.retry': 'Retry',
  'certs.retried': 'Issuing {cn} again. See the list for its status.',
  'certs.empty': 'No certificates match these conditions.',
  'certs.err.date': 'The issue date is not valid.',
  'certs.err.range': 'The start date must be on or before the end date.',
  'certs.add_title': 'Issue more client certificates',
  'certs.add_quota': 'Licensed',
  'certs.add_issued': 'Issued',
  'certs.add_count': 'Number to add',
  'certs.add_note_status': 'Check the status of the new certificates in the certificate list.',
  'certs.add_note_issuing': 'You cannot add certificates while some are being issued.',
  'certs.add_note_remaining': '※ You can add {n} more certificates.',
  'certs.add_back': 'Back',
  'certs.add_submit': 'Add',
  'certs.add_confirm': 'Issue {n} more client certificates?',
  'certs.add_confirm_hint': 'The list shows "Issuing..." until they are issued.',
  'certs.add_cancel': 'Cancel',
  'certs.add_ok': 'OK',
  'certs.added': '{n} certificates are being issued. Follow their status in the list.',
  'certs.err.count_required': 'Enter how many certificates to add.',
  'certs.err.count_format': 'Enter a whole number of 1 or more.',
  'certs.err.count_over': 'You can add at most {n} certificates.',
  'certs.err.issuing': 'Some certificates are being issued. You cannot add more until they are done.',
  'certs.err.none_left': 'There are no certificates left to add.',
  'certs.revoke': 'Revoke selected',
  'certs.revoke_hint': 'Revoke the checked certificates now or on a date.',
  'certs.select_all': 'Select every certificate shown',
  'certs.select': 'Select {cn}',
  'certs.scheduled': 'Revocation scheduled',
  'certs.scheduled_on': 'Revoked on {date} (scheduled)',
  'certs.revoke_undo': 'Cancel',
  'certs.revoke_undone': 'The scheduled revocation of {cn} was cancelled.',
  'certs.revoke_title': 'Revoke client certificates',
  'certs.revoke_confirm': 'Revoke these {n} client certificates?',
  'certs.revoke_when': 'Revocation date',
  'certs.revoke_now': 'Revoke now',
  'certs.revoke_date': 'Revoke on a date',
  'certs.revoke_on': 'Date of revocation',
  'certs.revoke_date_hint': 'A date from tomorrow to 30 days ahead; the certificates are revoked at 00:00 (Japan time) that day.',
  'certs.revoke_warning': 'A revoked certificate cannot be restored.',
  'certs.revoke_submit': 'Revoke',
  'certs.revoked_done': 'Revoked {n} client certificates.',
  'certs.revoke_scheduled_done': '{n} client certificates will be revoked on {date}.',
  'certs.err.none_selected': 'Check the certificates to revoke.',
  'certs.err.revoke_on': 'Give a revocation date from tomorrow to 30 days ahead.',

  'status.issuing': 'Issuing',
  'status.issued': 'Issued',
  'status.downloaded': 'Downloaded',
  'status.revoke_scheduled': 'Revocation scheduled',
  'status.revoked': 'Revoked',
  'status.failed': 'Failed',

  'device.01': 'Windows PC',
  'device.11': 'iOS (iPhone)',
  'device.12': 'iOS (iPad)',
  'device.99': 'Other',
  'device.20': 'Android',

  'users.title': 'Users',
  'users.organization': 'Organization',
  'users.new': 'New user',
  'imp.open': 'Import CSV',
  'imp.title': 'Register users from a CSV file',
  'imp.file': 'CSV file',
  'imp.layout': "This contract's CSV has {n} columns ({cols}). One line is one device; lines with the same main e-mail address are one user. UTF-8 and Shift_JIS (Excel, Notepad) are both read.",
  'imp.admin_download': "Issue for the administrator's bulk download",
  'imp.admin_download_hint': "Certificates for the administrator's bulk download cannot have an install restriction.",
  'imp.lines_caption': 'Lines with errors (nothing was registered)',
  'imp.col.line': 'Line',
  'imp.col.column': 'Column',
  'imp.col.message': 'Problem',
  'imp.cancel': 'Close',
  'imp.submit': 'Register',
  'imp.no_file': 'Choose a CSV file.',
  'imp.queued': '{file} accepted ({users} users, {devices} certificates). Follow it under "CSV jobs".',
  'imp.jobs_title': 'CSV jobs',
  'imp.col.created': 'Received',
  'imp.col.kind': 'Job',
  'imp.col.file': 'File',
  'imp.col.status': 'Status',
  'imp.col.progress': 'Done',
  'imp.col.finished': 'Finished',
  'imp.progress': '{done} / {total} users',
  'imp.job_errors': 'The job for {file} failed:',
  'users.issuing_notice': 'Some certificates are being issued. The list refreshes itself until they are done.',
  'users.search_conditions': 'Search conditions',
  'users.s.family_name': 'Family name',
  'users.s.given_name': 'Given name',
  'users.s.email': 'E-mail address',
  'users.s.applied': 'Applied on',
  'users.s.applied_from': 'Applied on (from)',
  'users.s.applied_to': 'Applied on (to)',
  'users.s.issued': 'Issued on',
  'users.s.issued_from': 'Issued on (from)',
  'users.s.issued_to': 'Issued on (to)',
  'users.s.expires': 'Expires on',
  'users.s.expires_from': 'Expires on (from)',
  'users.s.expires_to': 'Expires on (to)',
  'users.s.status': 'Certificate status',
  'users.s.device': 'Device',
  'users.s.submit': 'Search',
  'users.s.clear': 'Clear',
  'users.filtered': 'Showing the users that match the search conditions.',
  'users.col.name': 'Name',
  'users.col.email': 'E-mail address',
  'users.col.applied': 'Applied on',
  'users.col.device': 'Device',
  'users.col.status': 'Status',
  'users.col.issued': 'Issued on',
  'users.col.expires': 'Expires on',
  'users.no_certificates': 'No certificates',
  'users.empty': 'No users match these conditions.',
  'users.err.date': 'A date is not valid.',
  'users.err.range': '{what}: the start date must be on or before the end date.',

  'reg.title': 'Register a user',
  'reg.close': 'Close',
  'reg.step.input': 'Enter the user',
  'reg.step.confirm': 'Check what you entered',
  'reg.step.done': 'Registered',
  'reg.lead': 'Enter the user\'s information.',
  'reg.section_user': '■ User',
  'reg.section_devices': '■ Devices',
  'reg.company': 'Company',
  'reg.organization': 'Organization',
  'reg.name': 'Name',
  'reg.family_name': 'Family name',
  'reg.given_name': 'Given name',
  'reg.family_name_kana': 'Family name (katakana)',
  'reg.given_name_kana': 'Given name (katakana)',
  'reg.family_name_en': 'Family name (English)',
  'reg.given_name_en': 'Given name (English)',
  'reg.email': 'E-mail address',
  'reg.ph.family_name': 'e.g. 山田',
  'reg.ph.given_name': 'e.g. 太郎',
  'reg.ph.family_name_kana': 'e.g. ヤマダ',
  'reg.ph.given_name_kana': 'e.g. タロウ',
  'reg.ph.family_name_en': 'e.g. Yamada',
  'reg.ph.given_name_en': 'e.g. Taro',
  'reg.ph.email': 'e.g. yamada-taro@example.com',
  'reg.ph.sub_email': 'The e-mail address when left empty',
  'reg.ph.datetime': 'yyyy/mm/dd [hh:mm]',
  'reg.ph.mac': 'e.g. 00A0C9123456',
  'reg.note_stored':
    'The family and given names in English and the e-mail address are written into the client certificate: enter them exactly.',
  'reg.note_email': 'The only symbols allowed in an e-mail address are the half-width dot ".", underscore "_" and hyphen "-".',
  'reg.note_devices':
    'Choose every device the user will use: choosing Windows PC and iOS (iPhone), for example, issues two certificates, one for each.',
  'reg.note_submail':
    'A device\'s sub e-mail address, when given, goes into that device\'s certificate instead of the e-mail address.',
  'reg.note_validity':
    'Enter a validity period as yyyy/mm/dd, or with a time as yyyy/mm/dd hh:mm. Left empty, the standard validity period applies.',
  'reg.note_org':
    'When Organization, OrganizationUnit1 and OrganizationUnit2 are all empty, the certificate\'s organization is the company\'s English name.',
  'reg.note_restriction':
    '※ Install restriction is available for Windows PC only. An empty item is not checked.',
  'reg.note_modes':
    'No restriction: installs anywhere / Any condition (OR): only on a device that matches at least one item / All conditions (AND): only on a device that matches every item given',
  'reg.note_mac': 'Enter the MAC address as 12 hexadecimal digits (0–F), without hyphens "-" or colons ":".',
  'reg.sub_email': 'Sub e-mail address',
  'reg.validity': 'Validity period',
  'reg.valid_from': 'Valid from',
  'reg.valid_to': 'Valid to',
  'reg.org_units': 'O and OU',
  'reg.o': 'Organization',
  'reg.ou1': 'OrganizationUnit1',
  'reg.ou2': 'OrganizationUnit2',
  'reg.restriction': 'Install restriction',
  'reg.restriction_mode': 'Restriction',
  'reg.mode.none': 'No restriction',
  'reg.mode.or': 'Any condition (OR)',
  'reg.mode.and': 'All conditions (AND)',
  'reg.mac': '① MAC address',
  'reg.computer': '② Computer name',
  'reg.login_user': '③ Login user name',
  'reg.bios_serial': '④ Device (BIOS) serial number',
  'reg.restriction_na': '–',
  'reg.same_as_email': '(same as the e-mail address)',
  'reg.default_validity': '(standard)',
  'reg.col.device': 'Device',
  'reg.col.cn': 'Common name',
  'reg.col.email': 'Certificate e-mail',
  'reg.cancel': 'Cancel',
  'reg.clear': 'Clear',
  'reg.confirm': 'Check',
  'reg.confirm_lead': 'Check the user\'s information. If it is right, press Register.',
  'reg.back': 'Back',
  'reg.submit': 'Register',
  'reg.submitting': 'Registering…',
  'reg.done_lead': 'The user has been registered.',
  'reg.done_issuing': 'The client certificates are being issued. Follow their status in the user list.',
  'reg.done_notify': 'The user will receive an e-mail with what they need to install the certificate.',
  'reg.close_button': 'Close',
  'reg.registered': 'Registered {name}.',
  'reg.err.summary': 'Some of the input is not valid. See the message under each field.',
  'reg.err.required.family_name': 'Enter the family name.',
  'reg.err.required.given_name': 'Enter the given name.',
  'reg.err.required.family_name_kana': 'Enter the family name in katakana.',
  'reg.err.required.given_name_kana': 'Enter the given name in katakana.',
  'reg.err.required.family_name_en': 'Enter the family name in English.',
  'reg.err.required.given_name_en': 'Enter the given name in English.',
  'reg.err.required.email': 'Enter the e-mail address.',
  'reg.err.name': 'Enter at most 50 characters (no control characters, no leading or trailing spaces).',
  'reg.err.kana': 'Enter at most 50 full-width katakana characters.',
  'reg.err.name_en': "Enter at most 50 half-width characters starting with a letter (the only symbols allowed are space . ' -).",
  'reg.err.cn_long': 'The English family and given names together must be at most 63 characters (the certificate\'s common name).',
  'reg.err.org_unit': 'Enter at most 64 half-width letters, digits and symbols.',
  'reg.err.item': 'Enter at most 64 characters (no control characters).',
  'reg.err.restriction_empty': 'With "Any condition (OR)" or "All conditions (AND)", enter at least one restriction item.',
  'reg.err.email_format':
    'The e-mail address is not valid. The only symbols allowed are the half-width dot ".", underscore "_" and hyphen "-".',
  'reg.err.device_required': 'Choose at least one device.',
  'reg.err.datetime': 'Enter a real date as yyyy/mm/dd or yyyy/mm/dd hh:mm.',
  'reg.err.period_order': '"Valid to" must be later than "Valid from".',
  'reg.err.mac': 'Enter the MAC address as 12 hexadecimal digits (0–9, A–F), without hyphens or colons.',
};

const DICTS = { ja, en };
const listeners = new Set();

function readStored() {
  try {
    return window.localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

let current = LANGS.includes(readStored()) ? readStored() : 'ja';

/** The language in use: "ja" or "en". */
export function getLang() {
  return current;
}

/** The text for key in the current language, with {name} placeholders filled from params. */
export function t(key, params) {
  let s = DICTS[current][key];
  if (s === undefined) s = ja[key];
  if (s === undefined) return key;
  if (params) {
    s = s.replace(/\{(\w+)\}/g, (m, name) =>
      Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : m,
    );
  }
  return s;
}

/** True when the dictionaries know key (used to tell our keys from server-sent text). */
export function hasKey(key) {
  return Object.prototype.hasOwnProperty.call(ja, key);
}

/** Fill every marked element under root with the current language's texts. */
export function applyI18n(root = document) {
  const attrs = [
    ['data-i18n-placeholder', 'placeholder'],
    ['data-i18n-aria-label', 'aria-label'],
    ['data-i18n-title', 'title'],
  ];
  for (const el of root.querySelectorAll('[data-i18n]')) {
    el.textContent = t(el.getAttribute('data-i18n'));
  }
  for (const [data, attr] of attrs) {
    for (const el of root.querySelectorAll(`[${data}]`)) {
      el.setAttribute(attr, t(el.getAttribute(data)));
    }
  }
  if (root === document) {
    document.documentElement.lang = current;
  }
}

/** Switch the language, remember it, refresh the page texts and tell the listeners. */
export function setLang(lang) {
  if (!LANGS.includes(lang) || lang === current) return;
  current = lang;
  try {
    window.localStorage.setItem(STORAGE_KEY, lang);
  } catch {
    /* storage unavailable: the choice lasts for this page only */
  }
  applyI18n(document);
  for (const fn of listeners) fn(lang);
}

/** Call fn(lang) after every language switch. */
export function onLangChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/**
 * Build the 日本語 / English switch inside container (an element).
 * Each language is named in its own words so anybody can find theirs.
 */
export function mountLangSwitch(container) {
  container.classList.add('lang-switch');
  container.setAttribute('role', 'group');
  container.setAttribute('data-i18n-aria-label', 'lang.label');
  container.setAttribute('aria-label', t('lang.label'));
  const names = { ja: '日本語', en: 'English' };
  const buttons = LANGS.map((lang) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'lang-option';
    b.lang = lang;
    b.dataset.lang = lang;
    b.textContent = names[lang];
    b.addEventListener('click', () => setLang(lang));
    container.appendChild(b);
    return b;
  });
  const mark = () => {
    for (const b of buttons) b.setAttribute('aria-pressed', String(b.dataset.lang === current));
  };
  mark();
  onLangChange(mark);
}
