/**
 * The task pane's words in zh-CN (the users' language, the default) and English, and the language
 * choice: the person's toggle if they made one, else Office's display language.
 */
import { FIELD_SPECS, STATUS_LABELS, type Field, type RowStatus } from '../core/schema.js';

export type Language = 'zh' | 'en';

const ZH = {
  'app.title': '客户报备',
  'app.subtitle': '把表格里的客户报备给公司，结果写回表格',
  'lang.toggle': 'English',
  'host.notExcel': '此页面需要在 Excel 中打开（作为加载项）。连接和“上传旧表格”仍可使用。',
  'host.noOffice': 'office.js 没有加载：请通过服务地址 /addin/taskpane.html 打开本页。',
  'host.oldExcel': '此 Excel 版本不支持 ExcelApi 1.9：请更新 Office 后再用表格相关功能。',
  'step.connect': '连接服务',
  'step.prepare': '准备表格',
  'step.submit': '提交报备',
  'step.review': '审核',
  'step.upload': '上传旧表格',
  'connect.url': '服务地址',
  'connect.token': '令牌',
  'connect.tokenHint': '令牌只保存在本窗口（关闭后需重新输入），不会写入浏览器的长期存储。',
  'connect.button': '连接',
  'connect.forget': '断开并忘记令牌',
  'connect.connected': '已连接 {url}（版本 {version}，存储 {store}）',
  'connect.asReviewer': '你有审核权限。',
  'connect.needBoth': '请填写服务地址和令牌。',
  'connect.badUrl': '服务地址不是有效的网址（例如 https://baobei.example.com）。',
  'prepare.hint': '选中客户表所在的工作表，然后检测表头。',
  'prepare.detect': '检测表头',
  'prepare.apply': '应用到表格',
  'prepare.detected': '工作表“{sheet}”：表头在第 {row} 行，{rows} 行数据。',
  'prepare.col': '列',
  'prepare.header': '表头',
  'prepare.field': '对应字段',
  'prepare.confidence': '把握',
  'prepare.ignore': '不导入',
  'prepare.manual': '手动',
  'prepare.phoneFallback': '备用：“{field}”列为空时读此列',
  'prepare.applied': '已把表格转为 Excel 表，加上数据验证、格式和结果列。',
  'prepare.missingRequired': '还没有列对应“{field}”：请在下拉框中选择。',
  'prepare.duplicateField': '“{field}”被选了不止一次：每个字段只能对应一列。',
  'run.check': '检查',
  'run.submit': '提交',
  'run.refresh': '刷新',
  'run.checkHint': '预检每一行会得到的结果，写回表格，不保存任何报备。',
  'run.submitHint': '提交还没有报备编号的行；重试不会重复报备。',
  'run.refreshHint': '为已有报备编号的行取回最新状态（例如审核之后）。',
  'run.submitChanges': '提交更改',
  'run.submitChangesHint':
    '把已报备行中改过的单元格作为更改提交（只发送改过的字段）；被驳回的行改正后重新送审。',
  'progress.submitChanges': '正在提交更改…',
  'run.doneChanges':
    '已更改 {changed} 行（其中重新送审 {resubmitted} 行），{refused} 行未生效（原因见该行），{unseen} 行需先刷新。',
  'run.summary': '{rows} 行：',
  'run.invalidBeforeSend': '{n} 行在发送前就有错误（已在表格中标出）',
  'run.skipped': '{n} 行未改动（已报备过，或服务中找不到）',
  'run.notRegistered': '{n} 行是填写示例、合计、说明或重复的表头，未登记（见该行“提示”）',
  'run.hintsLeft':
    '{n} 条“提示”这次没有写入：处理期间有行被插入、删除或排序，无法确定它们所在的行；下次运行时会写入',
  'run.lost': '第 {rows} 行在处理期间被删除或改动了客户信息，结果没有写回（报备已保存，改回后点“刷新状态”）',
  'run.nothing': '没有需要处理的行。',
  'connect.adminWarnings': '服务提醒管理员处理：',
  'notices.title': '通知',
  'notices.readAll': '全部标为已读',
  'notices.none': '没有通知。',
  'notices.unread': '{n} 条未读',
  'notices.expiring': '{n} 条保护将在 20 天内到期，其中 {extendable} 条还可申请延期（在“我的报备”中操作）。',
  'notices.notInSheets': '{no} 不在你的工作表中。',
  'notices.shown': '已选中 {no}（工作表“{sheet}”第 {row} 行）。',
  'progress.notices': '正在打开通知…',
  'step.pool': '公海',
  'pool.hint':
    '建立“公海”工作表：因跟进失效或长期未服务而进入公海的客户（只有名称、类型、地区、等级和日期）。要认领，在“认领”列选择 认领，填上你掌握的联系人、电话或信用代码，然后点“认领”——认领就是一次正常报备，先到先得。',
  'pool.build': '建立公海表',
  'pool.apply': '认领',
  'pool.builtCount': '公海中有 {rows} 个客户。',
  'pool.claimedCount': '已认领 {claimed} 个客户（已在“我的报备”中）。',
  'pool.claimErrors': '{n} 行未能认领（原因写在“处理结果”列）。',
  'progress.pool': '正在处理公海…',
  'reviewer.hint':
    '“延期与异议”：待决定的延期申请（批准 / 驳回）和异议（支持 / 驳回），在“决定”选择、在“审核意见”写理由后点“提交延期与异议决定”。“报表”：所选月份内每人每月报备、即将到期的保护和审核时效（7 个工作日），附图表。',
  'reviewer.lifecycleBuild': '建立延期与异议表',
  'reviewer.lifecycleApply': '提交延期与异议决定',
  'reviewer.lifecycleBuilt': '待决定：延期申请 {extensions} 条，异议 {objections} 条。',
  'reviewer.lifecycleApplied': '已决定 {decided} 条。',
  'reviewer.lifecycleErrors': '{n} 行未提交（原因写在“处理结果”列）。',
  'reviewer.reportFrom': '起始月份',
  'reviewer.reportTo': '结束月份',
  'reviewer.reportBuild': '建立报表',
  'reviewer.reportBuilt': '报表：{rows} 行（每人每月），超期审核 {overdue} 条，即将到期 {expiringSoon} 条。',
  'progress.reviewer': '正在处理审核报表…',
  'step.mine': '我的报备',
  'mine.hint':
    '建立“我的报备”工作表：我的每条报备及保护截止、剩余天数、延期申请截止、异议截止和下次跟进，最紧急的在前。在“操作”列选择 申请延期 / 提出异议 / 记录跟进 / 已签约 / 丢单 / 撤回，在“说明”写理由或跟进内容，然后点“执行操作”。',
  'mine.build': '建立我的报备表',
  'mine.apply': '执行操作',
  'mine.builtCount': '我的报备：{rows} 条；{overdue} 条已逾期，{dueSoon} 条 7 天内到期。',
  'mine.appliedCount': '已执行 {done} 项操作，我的报备表已更新。',
  'mine.actionErrors': '{n} 行未能执行（原因写在“处理结果”列）。',
  'progress.mine': '正在处理我的报备…',
  'review.hint': '建立“待审核”工作表：待审核和有冲突的报备及排名；在“决定”列填写 通过 / 驳回 / 共享 和理由。',
  'review.build': '建立待审核表',
  'review.apply': '提交审核决定',
  'upload.hint': '选择 .xlsx 或 .csv 旧表格，上传检查，下载标注后的工作簿。',
  'upload.file': '选择文件',
  'upload.noFile': '未选择文件',
  'upload.mode': '方式',
  'upload.modeSubmit': '提交新报备',
  'upload.modeHistory': '迁移历史登记（管理员）',
  'upload.dryRun': '只检查，不保存',
  'upload.button': '上传',
  'upload.pickFirst': '请先选择一个 .xlsx 或 .csv 文件。',
  'upload.wrongType': '只支持 .xlsx 和 .csv 文件（.xls 请先在 Excel 中另存为 .xlsx）。',
  'upload.summary': '“{file}”（工作表 {sheet}，表头第 {row} 行）：{rows} 行',
  'upload.dryRunDone': '只检查，没有保存。',
  'upload.download': '下载标注后的工作簿',
  'stage.reading': '正在读取表格…',
  'stage.sending': '正在发送到服务…',
  'stage.fetching': '正在取回最新状态…',
  'stage.deciding': '正在提交审核决定…',
  'stage.writing': '正在写回表格…',
  'prepare.invalidMarked': '{rows} 行共 {cells} 个单元格不符合要求，已标出（尚未发送）。',
  'prepare.tableFailed': '未能转为 Excel 表（{reason}）；验证、格式和结果列已完成。',
  'review.builtCount': '已建立待审核表：{groups} 个客户，{rows} 条报备。',
  'review.appliedCount': '已提交 {decided} 个审核决定，待审核表已更新。',
  'review.decisionErrors': '{n} 行未能处理（已在待审核表中标红并写明原因）。',
  'progress.detect': '正在检测表头…',
  'progress.apply': '正在应用到表格…',
  'progress.check': '正在检查…',
  'progress.submit': '正在提交…',
  'progress.refresh': '正在刷新状态…',
  'progress.review': '正在处理审核…',
  'run.doneCheck': '检查完成：结果已写回表格，没有保存任何报备。',
  'run.doneSubmit': '提交完成：报备编号、状态和冲突说明已写回表格。',
  'run.doneRefresh': '状态已更新。',
  'upload.done': '上传完成：汇总见“上传旧表格”。',
  'progress.connecting': '正在连接…',
  'progress.uploading': '正在上传并检查…',
  'progress.downloading': '正在取回标注后的工作簿…',
  'status.skipped': '跳过',
  'error.requestId': '请求编号：{id}',
  'error.excel': 'Excel 拒绝了操作（{code}）：{message}。请先退出单元格编辑、关闭对话框后重试。',
  'error.unexpected': '出了意外的问题：{message}。请重试；仍失败请刷新任务窗格。',
  'error.notConnected': '请先连接服务。',
  'error.notPrepared': '请先在“准备表格”中检测表头并应用。',
  'step.admin': '管理',
  'admin.users': '用户',
  'admin.usersLoad': '显示用户',
  'admin.name': '姓名',
  'admin.role': '角色',
  'admin.team': '团队',
  'admin.state': '状态',
  'admin.userActions': '操作',
  'admin.disable': '停用',
  'admin.enable': '启用',
  'admin.rotate': '更换令牌',
  'admin.handOver': '离职移交',
  'admin.addUser': '添加用户',
  'admin.add': '添加',
  'admin.copy': '复制',
  'admin.copied': '已复制到剪贴板。',
  'admin.copyManual': '无法自动复制：令牌已选中，请按 Ctrl+C。',
  'admin.tokenClose': '我已保存，关闭',
  'admin.tokenOnce': '令牌只显示这一次：请立即复制并交给本人。关闭后无法再次查看，只能更换。',
  'admin.tokenFor': '{name} 的新令牌：',
  'admin.handOverTo': '移交给',
  'admin.handOverConfirm': '确认移交并停用',
  'admin.handOverAsk': '停用 {name}，并把其全部在保报备移交给所选同事（R38）。双方都会收到通知。',
  'admin.handOverNobody': '没有可接收的启用用户。',
  'admin.cancel': '取消',
  'admin.usersLoaded': '共 {n} 个用户。',
  'admin.added': '已添加 {name}。',
  'admin.disabled': '已停用 {name}，其令牌立即失效。',
  'admin.enabled': '已启用 {name}。',
  'admin.rotated': '已为 {name} 更换令牌，旧令牌已失效。',
  'admin.policy': '政策',
  'admin.policyLoad': '显示现行政策',
  'admin.preset': '预设',
  'admin.policyHint': '先选预设，再改需要不同的设置；与预设相同的值不会作为覆盖保存。空白表示“关闭”。',
  'admin.overridden': '已覆盖',
  'admin.policySave': '保存政策',
  'admin.policySaved': '政策已保存：预设 {preset}，{n} 项覆盖。',
  'admin.policyLapsed':
    '保存前，{n} 条报备已按原规则失效（未按时跟进或长期未服务），已作废并回到公海：{numbers}。',
  'admin.policyInvalid': '有 {n} 项设置不符合要求，见各项下方说明。',
  'progress.admin': '正在处理…',
  'role.sales': '销售',
  'role.reviewer': '审核',
  'role.admin': '管理员',
} as const;

export type MessageKey = keyof typeof ZH;

const EN: Record<MessageKey, string> = {
  'app.title': 'Customer registration',
  'app.subtitle': 'Register the customers in your sheet; results come back into the sheet',
  'lang.toggle': '中文',
  'host.notExcel':
    'Open this page inside Excel (as an add-in). Connect and “Upload a legacy file” still work.',
  'host.noOffice': 'office.js did not load: open this page from the service at /addin/taskpane.html.',
  'host.oldExcel': 'This Excel does not support ExcelApi 1.9: update Office to use the sheet steps.',
  'step.connect': 'Connect',
  'step.prepare': 'Prepare sheet',
  'step.submit': 'Submit',
  'step.review': 'Review',
  'step.upload': 'Upload a legacy file',
  'connect.url': 'Service URL',
  'connect.token': 'Token',
  'connect.tokenHint':
    'The token stays in this window only (enter it again after closing); it is never kept in long-term browser storage.',
  'connect.button': 'Connect',
  'connect.forget': 'Disconnect and forget the token',
  'connect.connected': 'Connected to {url} (version {version}, store {store})',
  'connect.asReviewer': 'You can review registrations.',
  'connect.needBoth': 'Enter the service URL and your token.',
  'connect.badUrl': 'The service URL is not a valid address (e.g. https://baobei.example.com).',
  'prepare.hint': 'Select the worksheet holding your customer list, then detect its header.',
  'prepare.detect': 'Detect header',
  'prepare.apply': 'Apply to sheet',
  'prepare.detected': 'Sheet “{sheet}”: header on row {row}, {rows} data rows.',
  'prepare.col': 'Col',
  'prepare.header': 'Header',
  'prepare.field': 'Field',
  'prepare.confidence': 'Confidence',
  'prepare.ignore': 'Do not import',
  'prepare.manual': 'manual',
  'prepare.phoneFallback': 'fallback: read when the “{field}” cell is empty',
  'prepare.applied': 'The range is now an Excel table with validation, formats and result columns.',
  'prepare.missingRequired': 'No column is mapped to “{field}” yet: pick it in a dropdown.',
  'prepare.duplicateField': '“{field}” is chosen more than once: each field maps to one column.',
  'run.check': 'Check',
  'run.submit': 'Submit',
  'run.refresh': 'Refresh',
  'run.checkHint': 'Shows what would happen to each row and writes it into the sheet; saves nothing.',
  'run.submitHint': 'Submits the rows without a registration number; a retry never registers twice.',
  'run.refreshHint': 'Fetches the current status of rows that have a number (e.g. after review).',
  'run.submitChanges': 'Submit changes',
  'run.submitChangesHint':
    'Sends the edited cells of registered rows as changes (only the edited fields); a corrected rejected row goes back to review.',
  'progress.submitChanges': 'Submitting changes…',
  'run.doneChanges':
    '{changed} rows changed ({resubmitted} resubmitted), {refused} not applied (see the row), {unseen} need a Refresh first.',
  'run.summary': '{rows} rows: ',
  'run.invalidBeforeSend': '{n} rows had errors before sending (marked in the sheet)',
  'run.skipped': '{n} rows left as they were (already registered, or not on the service)',
  'run.notRegistered':
    '{n} rows are an example, a total, a note or the header repeated: not registered (see their 提示)',
  'run.hintsLeft':
    '{n} 提示 texts were not written this time: rows were inserted, deleted or sorted while the add-in worked, so their rows could not be told; the next run writes them',
  'run.lost':
    'Rows {rows} were deleted or had their customer cells changed while the add-in worked; their results were not written (registrations are kept: restore the rows, then Refresh)',
  'run.nothing': 'No rows to process.',
  'connect.adminWarnings': 'The service asks an administrator to act:',
  'notices.title': 'Notifications',
  'notices.readAll': 'Mark all read',
  'notices.none': 'No notifications.',
  'notices.unread': '{n} unread',
  'notices.expiring':
    '{n} protections end within 20 days; {extendable} can still be extended (in My registrations).',
  'notices.notInSheets': '{no} is not in your sheets.',
  'notices.shown': 'Selected {no} (sheet “{sheet}”, row {row}).',
  'progress.notices': 'Opening the notification…',
  'step.pool': 'Public pool',
  'pool.hint':
    'Builds the “公海” sheet: customers who returned to the public pool (name, type, region, grade and dates only). To claim one, choose 认领 in its row, add the contact, phone or credit code you know, and press Claim — a claim is a normal registration, first come first served.',
  'pool.build': 'Build pool sheet',
  'pool.apply': 'Claim',
  'pool.builtCount': '{rows} customers in the pool.',
  'pool.claimedCount': '{claimed} customers claimed (see My registrations).',
  'pool.claimErrors': '{n} rows could not be claimed (the reason is in 处理结果).',
  'progress.pool': 'Working on the pool…',
  'reviewer.hint':
    '延期与异议: extension requests (批准 approve / 驳回 reject) and objections (支持 uphold / 驳回 dismiss) waiting for you; choose in 决定, give the reason in 审核意见, then file. 报表: registrations per person per month, protections ending soon and the review SLA (7 working days) for the chosen months, with a chart.',
  'reviewer.lifecycleBuild': 'Build extensions & objections sheet',
  'reviewer.lifecycleApply': 'File extension & objection decisions',
  'reviewer.lifecycleBuilt': 'Waiting: {extensions} extension requests, {objections} objections.',
  'reviewer.lifecycleApplied': '{decided} decided.',
  'reviewer.lifecycleErrors': '{n} rows not filed (the reason is in 处理结果).',
  'reviewer.reportFrom': 'From month',
  'reviewer.reportTo': 'To month',
  'reviewer.reportBuild': 'Build report',
  'reviewer.reportBuilt':
    'Report: {rows} rows (person × month), {overdue} overdue reviews, {expiringSoon} expiring soon.',
  'progress.reviewer': 'Working on the reviewer sheets…',
  'step.mine': 'My registrations',
  'mine.hint':
    'Builds the “我的报备” sheet: each of your registrations with its protection end, days left, last day to ask for an extension, objection deadline and next follow-up, most urgent first. Choose an action in 操作 (extension, objection, follow-up, signed, lost, withdraw), write the reason or note in 说明, then press Apply actions.',
  'mine.build': 'Build my registrations',
  'mine.apply': 'Apply actions',
  'mine.builtCount': 'My registrations: {rows}; {overdue} overdue, {dueSoon} due within 7 days.',
  'mine.appliedCount': '{done} actions applied; the sheet is up to date.',
  'mine.actionErrors': '{n} rows could not be applied (the reason is in 处理结果).',
  'progress.mine': 'Working on my registrations…',
  'review.hint':
    'Builds a 待审核 sheet of pending and conflicting registrations with their ranking; fill the decision column with 通过 / 驳回 / 共享 and a reason.',
  'review.build': 'Build review sheet',
  'review.apply': 'Send decisions',
  'upload.hint': 'Pick a legacy .xlsx or .csv, upload it for checking, download the annotated workbook.',
  'upload.file': 'Choose file',
  'upload.noFile': 'No file chosen',
  'upload.mode': 'Mode',
  'upload.modeSubmit': 'Submit new registrations',
  'upload.modeHistory': 'Migrate the history register (admin)',
  'upload.dryRun': 'Check only, save nothing',
  'upload.button': 'Upload',
  'upload.pickFirst': 'Choose a .xlsx or .csv file first.',
  'upload.wrongType': 'Only .xlsx and .csv are supported (save an .xls as .xlsx in Excel first).',
  'upload.summary': '“{file}” (sheet {sheet}, header on row {row}): {rows} rows',
  'upload.dryRunDone': 'Checked only; nothing saved.',
  'upload.download': 'Download the annotated workbook',
  'stage.reading': 'Reading the sheet…',
  'stage.sending': 'Sending to the service…',
  'stage.fetching': 'Fetching current statuses…',
  'stage.deciding': 'Sending the decisions…',
  'stage.writing': 'Writing results into the sheet…',
  'prepare.invalidMarked': '{cells} cells in {rows} rows do not fit the rules and are marked (nothing sent).',
  'prepare.tableFailed':
    'Could not make an Excel table ({reason}); validation, formats and result columns are done.',
  'review.builtCount': 'Review sheet built: {groups} customers, {rows} registrations.',
  'review.appliedCount': '{decided} decisions sent; the review sheet is up to date.',
  'review.decisionErrors':
    '{n} rows could not be processed (marked red in the review sheet, with the reason).',
  'progress.detect': 'Detecting the header…',
  'progress.apply': 'Applying to the sheet…',
  'progress.check': 'Checking…',
  'progress.submit': 'Submitting…',
  'progress.refresh': 'Refreshing statuses…',
  'progress.review': 'Processing the review…',
  'run.doneCheck': 'Checked: the results are in the sheet; nothing was saved.',
  'run.doneSubmit': 'Submitted: numbers, statuses and conflicts are in the sheet.',
  'run.doneRefresh': 'Statuses updated.',
  'upload.done': 'Uploaded: the summary is under “Upload a legacy file”.',
  'progress.connecting': 'Connecting…',
  'progress.uploading': 'Uploading and checking…',
  'progress.downloading': 'Fetching the annotated workbook…',
  'status.skipped': 'Skipped',
  'error.requestId': 'Request id: {id}',
  'error.excel':
    'Excel refused the operation ({code}): {message}. Leave cell editing, close any dialog, and try again.',
  'error.unexpected': 'Something unexpected went wrong: {message}. Try again, or reload the task pane.',
  'error.notConnected': 'Connect to the service first.',
  'error.notPrepared': 'Detect and apply the header under “Prepare sheet” first.',
  'step.admin': 'Administration',
  'admin.users': 'Users',
  'admin.usersLoad': 'Show users',
  'admin.name': 'Name',
  'admin.role': 'Role',
  'admin.team': 'Team',
  'admin.state': 'State',
  'admin.userActions': 'Actions',
  'admin.disable': 'Disable',
  'admin.enable': 'Enable',
  'admin.rotate': 'New token',
  'admin.handOver': 'Hand over',
  'admin.addUser': 'Add a user',
  'admin.add': 'Add',
  'admin.copy': 'Copy',
  'admin.copied': 'Copied to the clipboard.',
  'admin.copyManual': 'Could not copy: the token is selected, press Ctrl+C.',
  'admin.tokenClose': 'I have saved it, close',
  'admin.tokenOnce':
    'The token is shown this once: copy it now and give it to the person. After closing it cannot be shown again, only replaced.',
  'admin.tokenFor': 'New token for {name}:',
  'admin.handOverTo': 'Hand over to',
  'admin.handOverConfirm': 'Hand over and disable',
  'admin.handOverAsk':
    'Disable {name} and move all their active registrations to the chosen colleague (R38). Both are notified.',
  'admin.handOverNobody': 'There is no enabled user to take over.',
  'admin.cancel': 'Cancel',
  'admin.usersLoaded': '{n} users.',
  'admin.added': '{name} added.',
  'admin.disabled': '{name} disabled; their token stops working at once.',
  'admin.enabled': '{name} enabled.',
  'admin.rotated': 'New token for {name}; the old one no longer works.',
  'admin.policy': 'Policy',
  'admin.policyLoad': 'Show the policy in force',
  'admin.preset': 'Preset',
  'admin.policyHint':
    'Choose a preset, then change the settings that differ; values equal to the preset are not saved as overrides. Empty means “off”.',
  'admin.overridden': 'overridden',
  'admin.policySave': 'Save the policy',
  'admin.policySaved': 'Policy saved: preset {preset}, {n} overrides.',
  'admin.policyLapsed':
    'Before it applied, lapsed registrations under the old rules (no follow-up or service in time) were voided and returned to the pool: {n} — {numbers}.',
  'admin.policyInvalid': '{n} settings are not valid; see the note under each.',
  'progress.admin': 'Working…',
  'role.sales': 'Sales',
  'role.reviewer': 'Reviewer',
  'role.admin': 'Administrator',
};

const MESSAGES: Record<Language, Record<MessageKey, string>> = { zh: ZH, en: EN };

const LANGUAGE_KEY = 'baobei.language';

/** The person's own choice wins; else English only when Office itself speaks English. */
export function initialLanguage(stored: string | null, officeDisplayLanguage: string | undefined): Language {
  if (stored === 'zh' || stored === 'en') return stored;
  return officeDisplayLanguage?.toLowerCase().startsWith('en') ? 'en' : 'zh';
}

export function loadLanguageChoice(storage: Storage | undefined): string | null {
  try {
    return storage?.getItem(LANGUAGE_KEY) ?? null;
  } catch {
    // Storage can be blocked (privacy settings, sandboxed frames): the default still works.
    return null;
  }
}

export function saveLanguageChoice(storage: Storage | undefined, language: Language): void {
  try {
    storage?.setItem(LANGUAGE_KEY, language);
  } catch {
    // Not remembering the toggle is acceptable.
  }
}

export type MessageParams = Record<string, string | number>;

export function translate(language: Language, key: MessageKey, params: MessageParams = {}): string {
  return MESSAGES[language][key].replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in params ? String(params[name]) : whole,
  );
}

export function fieldLabel(language: Language, field: Field): string {
  return FIELD_SPECS[field][language];
}

export function statusLabel(language: Language, status: RowStatus | 'skipped'): string {
  return status === 'skipped' ? translate(language, 'status.skipped') : STATUS_LABELS[status][language];
}

/** The text of an `<html lang>` attribute for a language. */
export function htmlLang(language: Language): string {
  return language === 'zh' ? 'zh-CN' : 'en';
}

export function isMessageKey(key: string): key is MessageKey {
  return key in ZH;
}
