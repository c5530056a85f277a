using System.Text.Json.Nodes;
using Nimbus.Virt.Qemu.Qmp;

namespace Nimbus.Virt.Qemu.Tests.Qmp;

public sealed class QmpClientTests
{
    // Recorded from qemu-system-x86_64 7.2.22 -machine pc -accel tcg -S.
    private const string ResumeEvent = """{"timestamp": {"seconds": 1795443406, "microseconds": 599290}, "event": "RESUME"}""";
    private const string StopEvent = """{"timestamp": {"seconds": 1795443406, "microseconds": 607289}, "event": "STOP"}""";
    private const string ResetEvent =
        """{"timestamp": {"seconds": 1795443406, "microseconds": 608190}, "event": "RESET", "data": {"guest": false, "reason": "host-qmp-system-reset"}}""";
    private const string ShutdownEvent =
        """{"timestamp": {"seconds": 1795443408, "microseconds": 613513}, "event": "SHUTDOWN", "data": {"guest": false, "reason": "host-qmp-quit"}}""";

    private static CancellationTokenSource Timeout() => new(TimeSpan.FromSeconds(30));

    [Fact]
    public async Task Connect_reads_the_version_from_the_greeting_and_sends_qmp_capabilities_first()
    {
        using var timeout = Timeout();
        using var server = new FakeQmpServer();

        var connecting = QmpClient.ConnectAsync(server.SocketPath, timeout.Token);
        await using var peer = await server.AcceptAsync(timeout.Token);
        await peer.SendLineAsync(FakeQmpServer.Greeting, timeout.Token);
        var request = await peer.ReceiveAsync(timeout.Token);
        Assert.False(connecting.IsCompleted, "ConnectAsync must wait for the qmp_capabilities reply");
        await peer.ReplyAsync(request, "{}", timeout.Token);
        await using var client = await connecting;

        Assert.Equal("qmp_capabilities", (string?)request["execute"]);
        Assert.False(request.ContainsKey("arguments"));
        Assert.True(request.ContainsKey("id"));
        Assert.Equal(new QmpVersion(7, 2, 22, "Debian 1:7.2+dfsg-7+deb12u18+b3"), client.Version);
        Assert.Equal("7.2.22", client.Version.ToString());
        Assert.Equal(["oob"], client.Capabilities);
        Assert.False(client.Disconnected.IsCompleted);
    }

    [Fact]
    public async Task Connect_fails_with_a_QmpException_when_capabilities_negotiation_is_refused()
    {
        using var timeout = Timeout();
        using var server = new FakeQmpServer();

        var connecting = QmpClient.ConnectAsync(server.SocketPath, timeout.Token);
        await using var peer = await server.AcceptAsync(timeout.Token);
        await peer.SendLineAsync(FakeQmpServer.Greeting, timeout.Token);
        await peer.ReplyErrorAsync(await peer.ReceiveAsync(timeout.Token), "CommandNotFound", "Capabilities negotiation is already complete, command ignored", timeout.Token);

        var error = await Assert.ThrowsAsync<QmpException>(() => connecting);
        Assert.Equal("qmp_capabilities", error.Command);
        Assert.Equal("CommandNotFound", error.Class);
        Assert.True(await peer.ClientHungUpAsync(timeout.Token), "the failed client must close its socket");
    }

    [Fact]
    public async Task Connect_to_a_path_with_no_server_fails_with_the_path_and_the_fix()
    {
        using var timeout = Timeout();
        using var directory = new ShortTempDirectory();
        var path = directory.Combine("absent.sock");

        var error = await Assert.ThrowsAsync<QmpConnectionException>(() => QmpClient.ConnectAsync(path, timeout.Token));

        Assert.Equal(path, error.SocketPath);
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("-qmp unix:", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Connect_to_a_peer_that_does_not_greet_with_QMP_fails_with_a_protocol_error()
    {
        using var timeout = Timeout();
        using var server = new FakeQmpServer();

        var connecting = QmpClient.ConnectAsync(server.SocketPath, timeout.Token);
        await using var peer = await server.AcceptAsync(timeout.Token);
        await peer.SendLineAsync("""{"hello": "not qmp"}""", timeout.Token);

        var error = await Assert.ThrowsAsync<QmpProtocolException>(() => connecting);
        Assert.Contains("greeting", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Connect_when_the_server_hangs_up_before_the_greeting_says_so()
    {
        using var timeout = Timeout();
        using var server = new FakeQmpServer();

        var connecting = QmpClient.ConnectAsync(server.SocketPath, timeout.Token);
        await using (var peer = await server.AcceptAsync(timeout.Token))
        {
            peer.Close();
        }

        var error = await Assert.ThrowsAsync<QmpConnectionException>(() => connecting);
        Assert.Contains("before QEMU sent its greeting", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Execute_sends_the_command_with_its_arguments_and_returns_the_return_value()
    {
        using var timeout = Timeout();
        await using var session = await QmpSession.OpenAsync(timeout.Token);
        var arguments = new JsonObject { ["command-line"] = "info version" };

        var executing = session.Client.ExecuteAsync("human-monitor-command", arguments, timeout.Token);
        var request = await session.Peer.ReceiveAsync(timeout.Token);
        await session.Peer.ReplyAsync(request, "\"7.2.22Debian 1:7.2+dfsg-7+deb12u18+b3\\r\\n\"", timeout.Token);
        var result = await executing;

        Assert.Equal("human-monitor-command", (string?)request["execute"]);
        Assert.Equal("info version", (string?)request["arguments"]?["command-line"]);
        Assert.Equal("7.2.22Debian 1:7.2+dfsg-7+deb12u18+b3\r\n", result?.GetValue<string>());
        Assert.Null(result?.Parent);
        Assert.Equal("""{"command-line":"info version"}""", arguments.ToJsonString());
    }

    [Fact]
    public async Task Each_command_carries_a_distinct_id()
    {
        using var timeout = Timeout();
        await using var session = await QmpSession.OpenAsync(timeout.Token);
        var ids = new HashSet<long>();

        for (var i = 0; i < 3; i++)
        {
            var executing = session.Client.ExecuteAsync("stop", null, timeout.Token);
            var request = await session.Peer.ReceiveAsync(timeout.Token);
            Assert.True(ids.Add(request["id"]!.GetValue<long>()), $"id {request["id"]} was used twice");
            await session.Peer.ReplyAsync(request, "{}", timeout.Token);
            await executing;
        }
    }

    [Fact]
    public async Task Replies_out_of_order_complete_the_command_with_the_matching_id()
    {
        using var timeout = Timeout();
        await using var session = await QmpSession.OpenAsync(timeout.Token);

        var status = session.Client.ExecuteAsync("query-status", null, timeout.Token);
        var cpus = session.Client.ExecuteAsync("query-cpus-fast", null, timeout.Token);
        var requests = new[] { await session.Peer.ReceiveAsync(timeout.Token), await session.Peer.ReceiveAsync(timeout.Token) };
        var statusRequest = Assert.Single(requests, r => (string?)r["execute"] == "query-status");
        var cpusRequest = Assert.Single(requests, r => (string?)r["execute"] == "query-cpus-fast");

        await session.Peer.ReplyAsync(cpusRequest, """[{"thread-id": 16600, "qom-path": "/machine/unattached/device[0]", "cpu-index": 0, "target": "x86_64"}]""", timeout.Token);
        var cpusResult = await cpus;
        Assert.False(status.IsCompleted, "query-status completed although its reply has not been sent");
        await session.Peer.ReplyAsync(statusRequest, """{"status": "running", "singlestep": false, "running": true}""", timeout.Token);
        var statusResult = await status;

        Assert.Equal(16600, cpusResult?[0]?["thread-id"]?.GetValue<long>());
        Assert.Equal("running", (string?)statusResult?["status"]);
    }

    [Fact]
    public async Task Command_error_becomes_a_QmpException_with_class_and_desc()
    {
        using var timeout = Timeout();
        await using var session = await QmpSession.OpenAsync(timeout.Token);

        var executing = session.Client.ExecuteAsync("nope", null, timeout.Token);
        var request = await session.Peer.ReceiveAsync(timeout.Token);
        // Recorded: QEMU puts "id" first in error replies.
        await session.Peer.SendLineAsync(
            $$$"""{"id": {{{request["id"]}}}, "error": {"class": "CommandNotFound", "desc": "The command nope has not been found"}}""",
            timeout.Token);

        var error = await Assert.ThrowsAsync<QmpException>(() => executing);
        Assert.Equal("nope", error.Command);
        Assert.Equal("CommandNotFound", error.Class);
        Assert.Equal("The command nope has not been found", error.Description);
        Assert.Equal("QMP command 'nope' failed with CommandNotFound: The command nope has not been found", error.Message);
        Assert.False(session.Client.Disconnected.IsCompleted, "an error reply must not end the connection");
    }

    [Fact]
    public async Task Event_sent_before_a_reply_reaches_subscribers_and_the_reply_still_completes_its_command()
    {
        using var timeout = Timeout();
        await using var session = await QmpSession.OpenAsync(timeout.Token);
        using var events = session.Client.SubscribeEvents();

        var executing = session.Client.ExecuteAsync("cont", null, timeout.Token);
        var request = await session.Peer.ReceiveAsync(timeout.Token);
        await session.Peer.SendLineAsync(ResumeEvent, timeout.Token);
        await session.Peer.ReplyAsync(request, "{}", timeout.Token);
        var result = await executing;

        Assert.IsType<JsonObject>(result);
        Assert.True(events.Reader.TryRead(out var resume), "the RESUME event read before the reply must already be delivered");
        Assert.Equal("RESUME", resume.Name);
        Assert.Null(resume.Data);
    }

    [Fact]
    public async Task Event_carries_its_name_data_and_timestamp()
    {
        using var timeout = Timeout();
        await using var session = await QmpSession.OpenAsync(timeout.Token);
        using var events = session.Client.SubscribeEvents();

        await session.Peer.SendLineAsync(ResetEvent, timeout.Token);
        var reset = await events.Reader.ReadAsync(timeout.Token);

        Assert.Equal("RESET", reset.Name);
        Assert.Equal("""{"guest":false,"reason":"host-qmp-system-reset"}""", reset.Data?.ToJsonString());
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1795443406).AddTicks(608190 * TimeSpan.TicksPerMicrosecond), reset.Timestamp);
    }

    [Fact]
    public async Task Subscription_for_named_events_sees_only_those()
    {
        using var timeout = Timeout();
        await using var session = await QmpSession.OpenAsync(timeout.Token);
        using var stops = session.Client.SubscribeEvents("STOP", "SHUTDOWN");

        await session.Peer.SendLineAsync(ResumeEvent, timeout.Token);
        await session.Peer.SendLineAsync(StopEvent, timeout.Token);
        await session.Peer.SendLineAsync(ResetEvent, timeout.Token);
        await session.Peer.SendLineAsync(ShutdownEvent, timeout.Token);

        Assert.Equal("STOP", (await stops.Reader.ReadAsync(timeout.Token)).Name);
        Assert.Equal("SHUTDOWN", (await stops.Reader.ReadAsync(timeout.Token)).Name);
    }

    [Fact]
    public async Task Wait_for_event_skips_other_events_and_returns_the_named_one()
    {
        using var timeout = Timeout();
        await using var session = await QmpSession.OpenAsync(timeout.Token);
        using var events = session.Client.SubscribeEvents();

        var executing = session.Client.ExecuteAsync("quit", null, timeout.Token);
        await session.Peer.ReceiveAsync(timeout.Token);
        await session.Peer.SendLineAsync(StopEvent, timeout.Token);
        await session.Peer.SendLineAsync(ShutdownEvent, timeout.Token);
        var shutdown = await events.WaitForEventAsync("SHUTDOWN", timeout.Token);

        Assert.Equal("host-qmp-quit", (string?)shutdown.Data?["reason"]);
        Assert.False(executing.IsCompleted);
    }

    [Fact]
    public async Task Client_wait_for_event_returns_the_next_event_of_that_name()
    {
        using var timeout = Timeout();
        await using var session = await QmpSession.OpenAsync(timeout.Token);
        // Any event delivered proves the subscription is in place before the STOP is sent.
        using var marker = session.Client.SubscribeEvents("RESUME");

        var waiting = session.Client.WaitForEventAsync("STOP", timeout.Token);
        await session.Peer.SendLineAsync(ResumeEvent, timeout.Token);
        await marker.Reader.ReadAsync(timeout.Token);
        Assert.False(waiting.IsCompleted, "WaitForEventAsync returned on an event of another name");
        await session.Peer.SendLineAsync(StopEvent, timeout.Token);

        Assert.Equal("STOP", (await waiting).Name);
    }

    [Fact]
    public async Task Every_subscriber_gets_its_own_copy_of_the_event_data()
    {
        using var timeout = Timeout();
        await using var session = await QmpSession.OpenAsync(timeout.Token);
        using var first = session.Client.SubscribeEvents();
        using var second = session.Client.SubscribeEvents();

        await session.Peer.SendLineAsync(ResetEvent, timeout.Token);
        var one = await first.Reader.ReadAsync(timeout.Token);
        var two = await second.Reader.ReadAsync(timeout.Token);
        one.Data!["reason"] = "changed by the first subscriber";

        Assert.Equal("host-qmp-system-reset", (string?)two.Data?["reason"]);
    }

    [Fact]
    public async Task Disposed_subscription_stops_receiving_and_completes()
    {
        using var timeout = Timeout();
        await using var session = await QmpSession.OpenAsync(timeout.Token);
        using var kept = session.Client.SubscribeEvents();
        var dropped = session.Client.SubscribeEvents();

        dropped.Dispose();
        await session.Peer.SendLineAsync(StopEvent, timeout.Token);
        await kept.Reader.ReadAsync(timeout.Token);

        Assert.False(dropped.Reader.TryRead(out _));
        await dropped.Reader.Completion.WaitAsync(timeout.Token);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => dropped.WaitForEventAsync("STOP", timeout.Token));
    }

    [Fact]
    public async Task A_slow_subscriber_loses_its_oldest_events_without_stalling_replies()
    {
        using var timeout = Timeout();
        await using var session = await QmpSession.OpenAsync(timeout.Token, new QmpClientOptions { EventCapacity = 2 });
        using var slow = session.Client.SubscribeEvents();

        var executing = session.Client.ExecuteAsync("stop", null, timeout.Token);
        var request = await session.Peer.ReceiveAsync(timeout.Token);
        foreach (var line in new[] { ResumeEvent, StopEvent, ResetEvent, ShutdownEvent })
        {
            await session.Peer.SendLineAsync(line, timeout.Token);
        }

        await session.Peer.ReplyAsync(request, "{}", timeout.Token);
        await executing;

        Assert.Equal(2, slow.DroppedCount);
        Assert.Equal("RESET", (await slow.Reader.ReadAsync(timeout.Token)).Name);
        Assert.Equal("SHUTDOWN", (await slow.Reader.ReadAsync(timeout.Token)).Name);
    }

    [Fact]
    public async Task Closing_the_socket_mid_command_fails_it_with_QmpConnectionClosedException_saying_QEMU_went_away()
    {
        using var timeout = Timeout();
        await using var session = await QmpSession.OpenAsync(timeout.Token);
        using var events = session.Client.SubscribeEvents();

        var first = session.Client.ExecuteAsync("query-status", null, timeout.Token);
        var second = session.Client.ExecuteAsync("query-blockstats", null, timeout.Token);
        await session.Peer.ReceiveAsync(timeout.Token);
        await session.Peer.ReceiveAsync(timeout.Token);
        session.Peer.Close();

        var firstError = await Assert.ThrowsAsync<QmpConnectionClosedException>(() => first);
        var secondError = await Assert.ThrowsAsync<QmpConnectionClosedException>(() => second);
        Assert.Equal("query-status", firstError.Command);
        Assert.Equal("query-blockstats", secondError.Command);
        Assert.Equal(QmpDisconnectReason.ServerClosed, firstError.Reason);
        Assert.Contains("QEMU process went away", firstError.Message, StringComparison.Ordinal);
        Assert.Contains("'query-status'", firstError.Message, StringComparison.Ordinal);

        var disconnect = await session.Client.Disconnected.WaitAsync(timeout.Token);
        Assert.Equal(QmpDisconnectReason.ServerClosed, disconnect.Reason);
        await events.Reader.Completion.WaitAsync(timeout.Token);
    }

    [Fact]
    public async Task Commands_and_subscriptions_after_the_connection_closed_fail_at_once()
    {
        using var timeout = Timeout();
        await using var session = await QmpSession.OpenAsync(timeout.Token);

        session.Peer.Close();
        await session.Client.Disconnected.WaitAsync(timeout.Token);

        var error = await Assert.ThrowsAsync<QmpConnectionClosedException>(() => session.Client.QueryStatusAsync(timeout.Token));
        Assert.Equal("query-status", error.Command);
        using var late = session.Client.SubscribeEvents();
        await late.Reader.Completion.WaitAsync(timeout.Token);
        await Assert.ThrowsAsync<QmpConnectionClosedException>(() => session.Client.WaitForEventAsync("STOP", timeout.Token));
    }

    [Fact]
    public async Task Waiting_for_an_event_when_QEMU_goes_away_fails_with_QmpConnectionClosedException()
    {
        using var timeout = Timeout();
        await using var session = await QmpSession.OpenAsync(timeout.Token);
        using var events = session.Client.SubscribeEvents("SHUTDOWN");

        var waiting = events.WaitForEventAsync("SHUTDOWN", timeout.Token);
        session.Peer.Close();

        var error = await Assert.ThrowsAsync<QmpConnectionClosedException>(() => waiting);
        Assert.Contains("SHUTDOWN", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Event_sent_just_before_QEMU_exits_is_delivered_before_the_subscription_completes()
    {
        using var timeout = Timeout();
        await using var session = await QmpSession.OpenAsync(timeout.Token);
        using var events = session.Client.SubscribeEvents();

        await session.Peer.SendLineAsync(ShutdownEvent, timeout.Token);
        session.Peer.Close();
        await session.Client.Disconnected.WaitAsync(timeout.Token);

        var received = new List<string>();
        await foreach (var qmpEvent in events.Reader.ReadAllAsync(timeout.Token))
        {
            received.Add(qmpEvent.Name);
        }

        Assert.Equal(["SHUTDOWN"], received);
    }

    [Fact]
    public async Task A_reply_split_across_writes_and_several_messages_in_one_write_are_all_read()
    {
        using var timeout = Timeout();
        await using var session = await QmpSession.OpenAsync(timeout.Token);
        using var events = session.Client.SubscribeEvents();

        var executing = session.Client.ExecuteAsync("query-status", null, timeout.Token);
        var id = (await session.Peer.ReceiveAsync(timeout.Token))["id"]!.ToJsonString();
        var whole = $$"""{"return": {"status": "paused", "singlestep": false, "running": false}, "id": {{id}}}""" + "\r\n" + StopEvent + "\r\n" + ResetEvent + "\r\n";
        await session.Peer.SendRawAsync(whole[..7], timeout.Token);
        await session.Peer.SendRawAsync(whole[7..40], timeout.Token);
        await session.Peer.SendRawAsync(whole[40..], timeout.Token);

        Assert.Equal("paused", (string?)(await executing)?["status"]);
        Assert.Equal("STOP", (await events.Reader.ReadAsync(timeout.Token)).Name);
        Assert.Equal("RESET", (await events.Reader.ReadAsync(timeout.Token)).Name);
    }

    [Fact]
    public async Task Cancelling_a_command_stops_waiting_and_its_late_reply_is_ignored()
    {
        using var timeout = Timeout();
        await using var session = await QmpSession.OpenAsync(timeout.Token);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token);

        var abandoned = session.Client.ExecuteAsync("query-migrate", null, cancel.Token);
        var abandonedRequest = await session.Peer.ReceiveAsync(timeout.Token);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => abandoned);

        var next = session.Client.ExecuteAsync("query-status", null, timeout.Token);
        var nextRequest = await session.Peer.ReceiveAsync(timeout.Token);
        await session.Peer.ReplyAsync(abandonedRequest, """{"status": "completed"}""", timeout.Token);
        await session.Peer.ReplyAsync(nextRequest, """{"status": "running", "singlestep": false, "running": true}""", timeout.Token);

        Assert.Equal("running", (string?)(await next)?["status"]);
        Assert.False(session.Client.Disconnected.IsCompleted);
    }

    [Fact]
    public async Task A_command_cancelled_before_it_is_sent_writes_nothing_and_keeps_the_connection()
    {
        using var timeout = Timeout();
        await using var session = await QmpSession.OpenAsync(timeout.Token);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => session.Client.ExecuteAsync("stop", null, cancelled.Token));
        var next = session.Client.ExecuteAsync("cont", null, timeout.Token);
        var request = await session.Peer.ReceiveAsync(timeout.Token);
        await session.Peer.ReplyAsync(request, "{}", timeout.Token);
        await next;

        Assert.Equal("cont", (string?)request["execute"]);
        Assert.False(session.Client.Disconnected.IsCompleted);
    }

    [Fact]
    public async Task Dispose_fails_pending_commands_and_hangs_up()
    {
        using var timeout = Timeout();
        await using var session = await QmpSession.OpenAsync(timeout.Token);

        var pending = session.Client.ExecuteAsync("query-status", null, timeout.Token);
        await session.Peer.ReceiveAsync(timeout.Token);
        await session.Client.DisposeAsync();

        var error = await Assert.ThrowsAsync<QmpConnectionClosedException>(() => pending);
        Assert.Equal(QmpDisconnectReason.Disposed, error.Reason);
        Assert.Equal(QmpDisconnectReason.Disposed, (await session.Client.Disconnected.WaitAsync(timeout.Token)).Reason);
        Assert.True(await session.Peer.ClientHungUpAsync(timeout.Token));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => session.Client.ExecuteAsync("stop", null, timeout.Token));
    }

    [Fact]
    public async Task Malformed_JSON_from_the_server_ends_the_connection_with_a_protocol_error()
    {
        using var timeout = Timeout();
        await using var session = await QmpSession.OpenAsync(timeout.Token);

        var pending = session.Client.ExecuteAsync("query-status", null, timeout.Token);
        await session.Peer.ReceiveAsync(timeout.Token);
        await session.Peer.SendLineAsync("""{"return": {"status": """, timeout.Token);

        var error = await Assert.ThrowsAsync<QmpConnectionClosedException>(() => pending);
        Assert.Equal(QmpDisconnectReason.ProtocolError, error.Reason);
        Assert.IsType<QmpProtocolException>(error.InnerException);
        Assert.True(await session.Peer.ClientHungUpAsync(timeout.Token), "the client must hang up on a peer that is not speaking QMP");
    }

    [Fact]
    public async Task Reply_without_an_id_is_ignored()
    {
        using var timeout = Timeout();
        await using var session = await QmpSession.OpenAsync(timeout.Token);

        var executing = session.Client.ExecuteAsync("stop", null, timeout.Token);
        var request = await session.Peer.ReceiveAsync(timeout.Token);
        // What QEMU sends for a request it could not parse.
        await session.Peer.SendLineAsync("""{"error": {"class": "GenericError", "desc": "JSON parse error, expecting value"}}""", timeout.Token);
        await session.Peer.ReplyAsync(request, "{}", timeout.Token);

        await executing;
    }

    [Fact]
    public async Task Query_status_parses_running_and_status()
    {
        using var timeout = Timeout();
        await using var session = await QmpSession.OpenAsync(timeout.Token);

        var querying = session.Client.QueryStatusAsync(timeout.Token);
        var request = await session.Peer.ReceiveAsync(timeout.Token);
        await session.Peer.ReplyAsync(request, """{"status": "prelaunch", "singlestep": false, "running": false}""", timeout.Token);

        Assert.Equal("query-status", (string?)request["execute"]);
        Assert.Equal(new QmpStatus(false, QmpRunState.Prelaunch), await querying);
    }

    [Fact]
    public async Task Query_status_reply_without_status_is_a_protocol_error_naming_the_member()
    {
        using var timeout = Timeout();
        await using var session = await QmpSession.OpenAsync(timeout.Token);

        var querying = session.Client.QueryStatusAsync(timeout.Token);
        await session.Peer.ReplyAsync(await session.Peer.ReceiveAsync(timeout.Token), """{"running": true}""", timeout.Token);

        var error = await Assert.ThrowsAsync<QmpProtocolException>(() => querying);
        Assert.Contains("\"status\"", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Query_blockstats_parses_device_node_and_counters()
    {
        using var timeout = Timeout();
        await using var session = await QmpSession.OpenAsync(timeout.Token);

        var querying = session.Client.QueryBlockStatsAsync(timeout.Token);
        var request = await session.Peer.ReceiveAsync(timeout.Token);
        // Recorded with -drive if=none,id=drive0,driver=null-co -device virtio-blk-pci, counters edited to be distinct,
        // plus a node without a drive as -blockdev creates it.
        await session.Peer.ReplyAsync(
            request,
            """
            [{"device": "drive0", "stats": {"unmap_operations": 0, "unmap_merged": 0, "flush_total_time_ns": 0, "wr_highest_offset": 0, "wr_total_time_ns": 0, "failed_wr_operations": 0, "failed_rd_operations": 0, "wr_merged": 0, "wr_bytes": 8192, "timed_stats": [], "failed_unmap_operations": 0, "failed_flush_operations": 0, "account_invalid": true, "rd_total_time_ns": 0, "invalid_unmap_operations": 0, "flush_operations": 5, "wr_operations": 2, "unmap_bytes": 0, "rd_merged": 0, "rd_bytes": 1048576, "unmap_total_time_ns": 0, "invalid_flush_operations": 0, "account_failed": true, "rd_operations": 256, "invalid_wr_operations": 0, "invalid_rd_operations": 0}, "node-name": "#block072", "qdev": "/machine/peripheral-anon/device[1]/virtio-backend"},
             {"device": "", "stats": {"wr_bytes": 0, "rd_bytes": 0, "wr_operations": 0, "rd_operations": 0}, "node-name": "disk1"}]
            """.ReplaceLineEndings(" "),
            timeout.Token);
        var stats = await querying;

        Assert.Equal(
            [
                new QmpBlockStats("drive0", "#block072", "/machine/peripheral-anon/device[1]/virtio-backend", 1048576, 8192, 256, 2, 5),
                new QmpBlockStats(null, "disk1", null, 0, 0, 0, 0, 0),
            ],
            stats);
    }

    [Fact]
    public async Task Query_cpus_fast_returns_the_vcpu_threads()
    {
        using var timeout = Timeout();
        await using var session = await QmpSession.OpenAsync(timeout.Token);

        var querying = session.Client.QueryCpusFastAsync(timeout.Token);
        await session.Peer.ReplyAsync(
            await session.Peer.ReceiveAsync(timeout.Token),
            """[{"thread-id": 16600, "props": {"core-id": 0, "thread-id": 0, "socket-id": 0}, "qom-path": "/machine/unattached/device[0]", "cpu-index": 0, "target": "x86_64"}, {"thread-id": 16601, "props": {"core-id": 1, "thread-id": 0, "socket-id": 0}, "qom-path": "/machine/unattached/device[1]", "cpu-index": 1, "target": "x86_64"}]""",
            timeout.Token);

        Assert.Equal(
            [new QmpCpu(0, 16600, "/machine/unattached/device[0]", "x86_64"), new QmpCpu(1, 16601, "/machine/unattached/device[1]", "x86_64")],
            await querying);
    }

    [Fact]
    public async Task Query_migrate_before_any_migration_reports_no_status()
    {
        using var timeout = Timeout();
        await using var session = await QmpSession.OpenAsync(timeout.Token);

        var querying = session.Client.QueryMigrateAsync(timeout.Token);
        await session.Peer.ReplyAsync(await session.Peer.ReceiveAsync(timeout.Token), "{}", timeout.Token);

        Assert.Equal(new QmpMigrationInfo(null, null, null, null, null, null), await querying);
    }

    [Fact]
    public async Task Query_migrate_parses_status_and_ram_progress()
    {
        using var timeout = Timeout();
        await using var session = await QmpSession.OpenAsync(timeout.Token);

        var querying = session.Client.QueryMigrateAsync(timeout.Token);
        await session.Peer.ReplyAsync(
            await session.Peer.ReceiveAsync(timeout.Token),
            """{"status": "completed", "setup-time": 0, "downtime": 2, "total-time": 17, "ram": {"total": 84484096, "dirty-sync-count": 2, "remaining": 0, "transferred": 592376, "page-size": 4096}}""",
            timeout.Token);

        Assert.Equal(new QmpMigrationInfo("completed", 17, 592376, 0, 84484096, null), await querying);
    }

    [Fact]
    public async Task Screendump_migrate_and_human_monitor_command_send_their_arguments()
    {
        using var timeout = Timeout();
        await using var session = await QmpSession.OpenAsync(timeout.Token);

        var dumping = session.Client.ScreendumpAsync("/var/lib/nimbus/shot.ppm", timeout.Token);
        var dump = await session.Peer.ReceiveAsync(timeout.Token);
        await session.Peer.ReplyAsync(dump, "{}", timeout.Token);
        await dumping;
        var migrating = session.Client.MigrateAsync("tcp:10.0.0.2:49152", timeout.Token);
        var migrate = await session.Peer.ReceiveAsync(timeout.Token);
        await session.Peer.ReplyAsync(migrate, "{}", timeout.Token);
        await migrating;
        var running = session.Client.HumanMonitorCommandAsync("info version", timeout.Token);
        var hmp = await session.Peer.ReceiveAsync(timeout.Token);
        await session.Peer.ReplyAsync(hmp, "\"7.2.22\\r\\n\"", timeout.Token);

        Assert.Equal("7.2.22\r\n", await running);
        Assert.Equal("""{"execute":"screendump","arguments":{"filename":"/var/lib/nimbus/shot.ppm"}}""", WithoutId(dump));
        Assert.Equal("""{"execute":"migrate","arguments":{"uri":"tcp:10.0.0.2:49152"}}""", WithoutId(migrate));
        Assert.Equal("""{"execute":"human-monitor-command","arguments":{"command-line":"info version"}}""", WithoutId(hmp));
    }

    [Theory]
    [InlineData("stop")]
    [InlineData("cont")]
    [InlineData("system_powerdown")]
    [InlineData("system_reset")]
    public async Task Simple_commands_send_their_QMP_name_without_arguments(string command)
    {
        using var timeout = Timeout();
        await using var session = await QmpSession.OpenAsync(timeout.Token);
        Func<CancellationToken, Task> send = command switch
        {
            "stop" => session.Client.StopAsync,
            "cont" => session.Client.ContAsync,
            "system_powerdown" => session.Client.SystemPowerdownAsync,
            _ => session.Client.SystemResetAsync,
        };

        var sending = send(timeout.Token);
        var request = await session.Peer.ReceiveAsync(timeout.Token);
        await session.Peer.ReplyAsync(request, "{}", timeout.Token);
        await sending;

        Assert.Equal($$"""{"execute":"{{command}}"}""", WithoutId(request));
    }

    [Fact]
    public async Task Quit_returns_once_QEMU_has_replied_and_hung_up()
    {
        using var timeout = Timeout();
        await using var session = await QmpSession.OpenAsync(timeout.Token);

        var quitting = session.Client.QuitAsync(timeout.Token);
        var request = await session.Peer.ReceiveAsync(timeout.Token);
        await session.Peer.SendLineAsync(ShutdownEvent, timeout.Token);
        await session.Peer.ReplyAsync(request, "{}", timeout.Token);
        Assert.Equal("quit", (string?)request["execute"]);
        Assert.False(quitting.IsCompleted, "quit returned before QEMU closed the socket");
        session.Peer.Close();

        await quitting;
        Assert.Equal(QmpDisconnectReason.ServerClosed, (await session.Client.Disconnected).Reason);
    }

    [Fact]
    public async Task Quit_succeeds_when_QEMU_exits_without_sending_its_reply()
    {
        using var timeout = Timeout();
        await using var session = await QmpSession.OpenAsync(timeout.Token);

        var quitting = session.Client.QuitAsync(timeout.Token);
        await session.Peer.ReceiveAsync(timeout.Token);
        session.Peer.Close();

        await quitting;
    }

    private static string WithoutId(JsonObject request)
    {
        var copy = (JsonObject)request.DeepClone();
        copy.Remove("id");
        return copy.ToJsonString();
    }
}
