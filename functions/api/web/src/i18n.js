import { S } from "./state.js";

export const DICT = {
  ko: {
    searchLabel: "고객 찾기", searchPlaceholder: "고객 ID 또는 이메일 앞부분", searchButton: "찾기", searchTitle: "검색 결과", searchEmpty: "\"{q}\"에 맞는 고객이 없습니다.",
    todayTitle: "오늘 연락할 고객", todayHint: "위험이 바뀐 뒤 아무도 연락하지 않은 고객(규칙 workspace.today_from 이상), 위험 금액순. 연락 안 됨은 목록에 남습니다.", todayEmpty: "오늘 연락할 고객이 없습니다.", todayCount: "오늘 연락할 고객 {n}명", searchCount: "검색 결과 {n}명",
    signIn: "회사 계정으로 로그인", signOut: "로그아웃", signedOut: "로그인이 만료되었습니다. 다시 로그인하세요.", signedInAs: "{name} 로그인됨", heldTitle: "승인을 기다리는 보정", heldHint: "주간 보정이 가중치·임계값을 한 번에 허용된 폭(calibration.max_step)보다 크게 바꾸려 해 자동으로 적용하지 않았습니다. 이유와 검증 기간의 결과를 보고 승인하세요.", heldVersion: "규칙 v{n}", heldMetrics: "검증 기간: 72시간 전 감지 {recall} · 오경보 {fa}/100명·월", approve: "승인하고 적용", approved: "규칙 v{n}으로 적용했습니다.", noRole: "이 계정에는 Journey 권한(그룹)이 없습니다. 관리자에게 조회자·상담원·관리자 그룹에 추가해 달라고 요청하세요.",
    role: { viewer: "조회자", agent: "상담원", admin: "관리자", ingest: "기록 전용 키", read: "읽기 전용 키" }, signInFailed: "로그인하지 못했습니다: {msg}",
    mine: "내 고객", apply: "적용", exportCsv: "CSV 내보내기", exported: "{file} 저장됨",
    riskOverTime: "위험 점수 추이", chartEmpty: "점수 기록이 아직 없습니다.", chartNow: "지금",
    outcomeLabel: "결과", lastContact: "마지막 연락", needsContact: "연락 필요", contactedMark: "연락함",
    outcome: { reached: "통화·연락됨", no_answer: "연락 안 됨", saved: "해결: 유지", lost: "해결: 이탈" },
    title: "고객 여정 대시보드", otherLang: "English", totalLabel: "전체 고객", rulesFile: "규칙: 배포 파일", rulesVersion: "규칙 v{n} ({origin}) · 72시간 전 감지 {recall} · 오경보 {fa}/100명·월", refresh: "새로고침", changeKey: "로그인·API 키",
    updated: "{time} 갱신", loading: "불러오는 중…", failed: "불러오지 못했습니다: {msg}", network: "서버에 연결할 수 없습니다.", retry: "다시 시도",
    keyTitle: "로그인 또는 API 키", keyHint: "또는 발급받은 API 키를 입력하세요. 이 브라우저에만 저장됩니다.", keyLabel: "API 키", keySubmit: "확인", cancel: "취소",
    stagesTitle: "단계별 분포", stagesHint: "단계마다 위험 수준별 고객 수",
    listTitle: "위험 고객", orderLabel: "정렬", orderValue: "위험 금액순", orderScore: "점수순", riskLabel: "위험", riskAll: "전체",
    hintValue: "위험 금액(점수 × 누적 매출) 순으로 정렬합니다: 가장 가치 있는 고객이 먼저 나옵니다. 행을 누르면 타임라인이 열립니다.",
    hintScore: "위험 점수 순으로 정렬합니다: 가장 위험한 고객이 먼저 나옵니다. 행을 누르면 타임라인이 열립니다.",
    colCustomer: "고객", colStage: "단계", colRisk: "위험", colScore: "점수", colReasons: "원인", colRevenue: "누적 매출", colValue: "위험 금액", colDays: "무활동 일수", colOwner: "담당자",
    more: "더 보기", listEmpty: "조건에 맞는 위험 고객이 없습니다.", shown: "{n}명 표시",
    custTitle: "고객 타임라인", close: "닫기", contributions: "점수 구성", noContrib: "점수에 기여한 신호가 없습니다.", profile: "프로필",
    score: "점수", revenue: "누적 매출", valueAtRisk: "위험 금액", daysInactive: "무활동 일수", days: "{n}일",
    program: "프로그램", owner: "담당자", email: "이메일", timeZone: "시간대", locale: "언어", unsubscribed: "수신 거부", yes: "예", no: "아니오",
    phone: "휴대폰", marketingConsent: "광고 수신 동의", nightConsent: "야간 광고 수신 동의", consentNone: "동의 없음", consentGiven: "{at} 동의", textBlocks: "문자 수신 제한", textBlocksNone: "없음",
    churnReason: "이탈 사유", createdAt: "등록", nextCheck: "다음 점검", erased: "개인정보 삭제됨",
    history: "변경 이력", historyEmpty: "이력이 없습니다.", moreHistory: "이전 이력 더 보기", kindStage: "단계", kindRisk: "위험", kindNote: "메모", start: "시작", scoreAt: "당시 점수 {s}",
    interventions: "보낸 메시지", noInterventions: "보낸 메시지가 없습니다.", colTemplate: "템플릿", colChannel: "채널", colStatus: "상태", colDetail: "내용", colUpdated: "갱신",
    contactTitle: "연락·해결 기록", contactHint: "연락한 사실과 결과만 기록합니다(자유 메모는 남기지 않습니다). 해결(유지·이탈)은 개입 결과에 반영됩니다.", author: "담당자 ID", contactChannel: "연락 방법", markContacted: "기록",
    sending: "보내는 중…", queued: "접수됨(queued) — 잠시 후 다시 불러옵니다.", authorRequired: "담당자 ID를 입력하세요.",
    msgTitle: "어떤 메시지가 효과적인가", msgHint: "회복률 = 회복 ÷ 발송. 회복률이 높은 순, 같으면 발송이 많은 순. 발송 10건 미만은 표본이 적어 결론을 내리기 이릅니다.",
    colVariant: "변형", colSent: "발송", colRecovered: "회복", colRate: "회복률", colFailed: "실패", colSkipped: "건너뜀", mailFb: { delivered: "전달됨", delayed: "지연", opened: "열람", clicked: "클릭", soft_bounce: "일시 반송", hard_bounce: "영구 반송", complaint: "스팸 신고", rejected: "거부됨" }, colDelivered: "전달률", colOpened: "열람률", colClicked: "클릭률", colBounced: "반송", colComplained: "스팸 신고", suppressed: "수신 차단된 주소(영구 반송·스팸 신고)", smallSample: "표본 적음", msgEmpty: "아직 보낸 메시지가 없습니다.",
    expTitle: "메시지의 실제 효과 (대조군 대비)", expHint: "대조군: 메시지를 받을 고객 중 일부에게는 보내지 않습니다. 효과 = 받은 고객의 회복률 − 대조군의 회복률, 95% 신뢰구간(Newcombe). 결과 기간(30일)이 모두 지난 달의 배정만 셉니다. 어느 한쪽이 너무 적으면(규칙 experiments.min_sample) 판단하지 않고 '데이터 부족'으로 표시합니다.",
    colTreated: "받음", colControl: "대조군", colUplift: "회복 효과", colChurnCut: "이탈 감소", colVerdict: "판정",
    verdict: { works: "효과 있음", no_evidence_yet: "아직 근거 없음", does_not_work: "효과 없음", harms: "역효과", not_enough_data: "데이터 부족" },
    savedAll: "막은 이탈 {n}명 (95% 구간 {lo}–{hi}) · 지킨 월 매출 {rev}", savedNone: "대조군이 아직 없어 막은 이탈을 추정할 수 없습니다.", colMonth: "월", colPrevented: "막은 이탈", colKept: "지킨 월 매출", expEmpty: "아직 배정된 메시지가 없습니다.", awaiting: "+{n}명 결과 대기",
    alertTitle: "담당자 알림의 결과", alertHint: "알림 뒤 연락이 기록되었는지(담당자 본인인지), 얼마나 빨리, 그리고 고객이 회복했는지.", colAlerted: "알림", colContacted: "연락", colToContact: "연락까지", colAlertRecovered: "회복", alertEmpty: "아직 보낸 알림이 없습니다.", byOwner: "담당자 본인 {n}", colOutcomes: "기록된 결과",
    churnTitle: "이탈", churnByMonth: "월별 이탈과 회복", churned: "이탈", recovered: "회복", churnReasons: "이탈 사유", noData: "데이터가 없습니다.", churnSum: "이탈 {c}명 · 회복 {r}명",
    stage: { trial: "체험", paid: "결제 완료", onboarding: "온보딩 중", active: "수강 중", engaged: "활발 참여", completed: "완료", churned: "이탈" },
    risk: { none: "없음", caution: "주의", warning: "경고", danger: "위험" },
    signal: { inactivity: "무활동", missed_assignments: "과제 미제출", login_drop: "접속 감소", content_drop: "열람 시간 감소", support_tickets: "잦은 문의", failed_payments: "결제 실패", nps: "NPS", login_gap: "평소보다 긴 미접속", slow_fade: "활동 점진 감소", submission_drop: "과제 제출 감소", newness: "가입 초기", email_engagement: "이메일 반응", low_engagement: "다른 고객보다 적은 이용", low_before_renewal: "갱신을 앞두고 적은 이용", tenure_hazard: "이탈이 잦은 가입 시기" },
    reason: { refund_requested: "환불 요청", subscription_cancelled: "구독 취소", inactivity: "장기 미접속" },
    textChannel: { alimtalk: "알림톡", sms: "SMS", lms: "LMS" },
    textBlock: { opt_out: "080 수신 거부", reported: "KISA 신고 차단", spam: "스팸 차단", not_kakao_user: "카카오톡 미사용" },
    channel: { phone: "전화", email: "이메일", message: "메시지", meeting: "면담", no_answer: "연락 안 됨", slack: "슬랙" },
    status: { in_progress: "보내는 중", deferred: "보류(방해 금지 시간)", retry: "재시도 대기", sent: "발송됨", skipped: "건너뜀", failed: "실패", unknown: "결과 불명" }
  },
  en: {
    searchLabel: "Find a customer", searchPlaceholder: "Customer id or start of e-mail", searchButton: "Find", searchTitle: "Search results", searchEmpty: "No customer matches \"{q}\".",
    todayTitle: "Today's list", todayHint: "At risk (the rules' workspace.today_from or above) and nobody has reached them since their risk changed, most valuable first. No answer keeps them here.", todayEmpty: "Nobody to contact today.", todayCount: "{n} to contact today", searchCount: "{n} found",
    signIn: "Sign in with your work account", signOut: "Sign out", signedOut: "Your sign-in has expired. Sign in again.", signedInAs: "Signed in as {name}", heldTitle: "Calibrations awaiting approval", heldHint: "The weekly calibration would move a weight or threshold further than one step allows (calibration.max_step), so it was not applied on its own. Read why and its results on the later period, then approve.", heldVersion: "Rules v{n}", heldMetrics: "Later period: caught 72 h ahead {recall} · false alarms {fa}/100 customer-months", approve: "Approve and apply", approved: "Applied as rules v{n}.", noRole: "Your account has no Journey role (group). Ask an admin to add you to the viewer, agent or admin group.",
    role: { viewer: "viewer", agent: "agent", admin: "admin", ingest: "ingest-only key", read: "read-only key" }, signInFailed: "Could not sign in: {msg}",
    mine: "My customers", apply: "Apply", exportCsv: "Export CSV", exported: "Saved {file}",
    riskOverTime: "Risk score over time", chartEmpty: "No scores recorded yet.", chartNow: "now",
    outcomeLabel: "Outcome", lastContact: "Last contact", needsContact: "Needs contact", contactedMark: "Contacted",
    outcome: { reached: "Reached", no_answer: "No answer", saved: "Resolved: saved", lost: "Resolved: lost" },
    title: "Customer journey dashboard", otherLang: "한국어", totalLabel: "Customers", rulesFile: "Rules: deployed file", rulesVersion: "Rules v{n} ({origin}) · caught 72 h ahead {recall} · false alarms {fa}/100/month", refresh: "Refresh", changeKey: "Sign in / API key",
    updated: "Updated {time}", loading: "Loading…", failed: "Could not load: {msg}", network: "Cannot reach the server.", retry: "Retry",
    keyTitle: "Sign in or use an API key", keyHint: "Or enter the API key you were given. It is stored in this browser only.", keyLabel: "API key", keySubmit: "Continue", cancel: "Cancel",
    stagesTitle: "Stage distribution", stagesHint: "Customers per stage, by risk level",
    listTitle: "At-risk customers", orderLabel: "Order", orderValue: "By value at risk", orderScore: "By score", riskLabel: "Risk", riskAll: "All",
    hintValue: "Sorted by value at risk (score × revenue to date): the most valuable customers come first. Click a row to open the timeline.",
    hintScore: "Sorted by risk score: the most at-risk customers come first. Click a row to open the timeline.",
    colCustomer: "Customer", colStage: "Stage", colRisk: "Risk", colScore: "Score", colReasons: "Reasons", colRevenue: "Revenue", colValue: "Value at risk", colDays: "Days inactive", colOwner: "Owner",
    more: "More", listEmpty: "No at-risk customers match.", shown: "{n} shown",
    custTitle: "Customer timeline", close: "Close", contributions: "Score breakdown", noContrib: "No signal contributes to the score.", profile: "Profile",
    score: "Score", revenue: "Revenue", valueAtRisk: "Value at risk", daysInactive: "Days inactive", days: "{n} d",
    program: "Program", owner: "Owner", email: "E-mail", timeZone: "Time zone", locale: "Locale", unsubscribed: "Unsubscribed", yes: "Yes", no: "No",
    phone: "Phone", marketingConsent: "Marketing consent", nightConsent: "Night-time consent", consentNone: "None", consentGiven: "given {at}", textBlocks: "Texts blocked", textBlocksNone: "None",
    churnReason: "Churn reason", createdAt: "Created", nextCheck: "Next check", erased: "Personal data erased",
    history: "History", historyEmpty: "No history yet.", moreHistory: "Older history", kindStage: "Stage", kindRisk: "Risk", kindNote: "Note", start: "start", scoreAt: "score then {s}",
    interventions: "Messages sent", noInterventions: "No messages sent.", colTemplate: "Template", colChannel: "Channel", colStatus: "Status", colDetail: "Detail", colUpdated: "Updated",
    contactTitle: "Record a contact", contactHint: "Records only the contact and its outcome (no free-text notes). Resolved (saved or lost) feeds the intervention outcomes.", author: "Staff ID", contactChannel: "Channel", markContacted: "Record",
    sending: "Sending…", queued: "Queued — reloading shortly.", authorRequired: "Enter your staff ID.",
    msgTitle: "Which message works best", msgHint: "Recovery rate = recovered ÷ sent. Highest rate first, then most sent. Under 10 sends the sample is too small to conclude.",
    colVariant: "Variant", colSent: "Sent", colRecovered: "Recovered", colRate: "Recovery rate", colFailed: "Failed", colSkipped: "Skipped", mailFb: { delivered: "delivered", delayed: "delayed", opened: "opened", clicked: "clicked", soft_bounce: "soft bounce", hard_bounce: "hard bounce", complaint: "marked as spam", rejected: "rejected" }, colDelivered: "Delivered", colOpened: "Opened", colClicked: "Clicked", colBounced: "Bounced", colComplained: "Complaints", suppressed: "Addresses suppressed (hard bounces, complaints)", smallSample: "small sample", msgEmpty: "No messages sent yet.",
    expTitle: "What the messages really do (against a control group)", expHint: "Control group: a share of the customers a message would go to get nothing. Effect = recovery of those who got it − recovery of the control group, with a 95 % interval (Newcombe). Only months whose outcome window has fully passed count. With too few customers in either group (the rules' experiments.min_sample) there is no verdict: \"Not enough data\".",
    colTreated: "Got it", colControl: "Control", colUplift: "Recovery effect", colChurnCut: "Churn cut", colVerdict: "Verdict",
    verdict: { works: "Works", no_evidence_yet: "No evidence yet", does_not_work: "Does not work", harms: "Harms", not_enough_data: "Not enough data" },
    savedAll: "Churns prevented {n} (95 % interval {lo} to {hi}) · monthly revenue kept {rev}", savedNone: "No control group yet: churns prevented cannot be estimated.", colMonth: "Month", colPrevented: "Churns prevented", colKept: "Monthly revenue kept", expEmpty: "No customer assigned to a message yet.", awaiting: "+{n} awaiting outcome",
    alertTitle: "What came of staff alerts", alertHint: "After an alert: was a contact recorded (and by the owner), how soon, and did the customer recover.", colAlerted: "Alerts", colContacted: "Contacted", colToContact: "Time to contact", colAlertRecovered: "Recovered", alertEmpty: "No staff alerts yet.", byOwner: "{n} by the owner", colOutcomes: "Outcomes recorded",
    churnTitle: "Churn", churnByMonth: "Churned vs recovered by month", churned: "Churned", recovered: "Recovered", churnReasons: "Churn reasons", noData: "No data.", churnSum: "{c} churned · {r} recovered",
    stage: { trial: "Trial", paid: "Paid", onboarding: "Onboarding", active: "Active", engaged: "Engaged", completed: "Completed", churned: "Churned" },
    risk: { none: "None", caution: "Caution", warning: "Warning", danger: "Danger" },
    signal: { inactivity: "Inactivity", missed_assignments: "Missed assignments", login_drop: "Login drop", content_drop: "Content drop", support_tickets: "Support tickets", failed_payments: "Failed payments", nps: "NPS", login_gap: "Longer gap than usual", slow_fade: "Slow fade", submission_drop: "Submission drop", newness: "New customer", email_engagement: "E-mail engagement", low_engagement: "Less use than peers", low_before_renewal: "Low use before renewal", tenure_hazard: "Risky tenure week" },
    reason: { refund_requested: "Refund requested", subscription_cancelled: "Subscription cancelled", inactivity: "Long inactivity" },
    textChannel: { alimtalk: "AlimTalk", sms: "SMS", lms: "LMS" },
    textBlock: { opt_out: "080 opt-out", reported: "blocked after a KISA report", spam: "spam block", not_kakao_user: "not on KakaoTalk" },
    channel: { phone: "Phone", email: "E-mail", message: "Message", meeting: "Meeting", no_answer: "No answer", slack: "Slack" },
    status: { in_progress: "In progress", deferred: "Deferred (quiet hours)", retry: "Retry pending", sent: "Sent", skipped: "Skipped", failed: "Failed", unknown: "Outcome unknown" }
  }
};
export function t(key, vars) {
  let s = DICT[S.lang][key];
  if (s == null) s = DICT.ko[key] != null ? DICT.ko[key] : key;
  if (vars) s = s.replace(/\{(\w+)\}/g, (_, k) => (vars[k] != null ? vars[k] : ""));
  return s;
}
export function lbl(group, value) {
  if (value == null) return "—";
  const g = DICT[S.lang][group] || {};
  return g[value] != null ? g[value] : String(value);
}
