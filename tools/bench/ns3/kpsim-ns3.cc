// SPDX-License-Identifier: Apache-2.0
// The ns-3 side of `make bench-ns3`: the work kpsim's side-by-side scenario does, in ns-3.
//
// CLIENTS external clients and SERVERS servers, each on its own point-to-point link (10 Gbps,
// 100 us) to one forwarding node with global routing. Every client opens FLOWS/CLIENTS short
// UDP flows, one every INTERVAL, each from a fresh socket (a new 5-tuple) to the servers in
// turn: a REQUEST-byte datagram, answered by a RESPONSE-byte datagram, after which the client
// closes the socket. Prints one line:
//   ns3 flows F completed C simulated S s wall W s cpu U s flows/s R
// where R = completed / wall (U is the process's CPU time: on a shared machine, compare those). Pcaps off unless --pcap (then every device is captured into
// --pcapDir).
//
//   kpsim-ns3 --flows=100000 [--clients=64 --servers=16 --interval=1ms --pcap]
#include "ns3/applications-module.h"
#include "ns3/core-module.h"
#include "ns3/internet-module.h"
#include "ns3/network-module.h"
#include "ns3/point-to-point-module.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <vector>

using namespace ns3;

namespace
{

// Answers every datagram with a RESPONSE-byte datagram to its sender.
class Responder : public Application
{
  public:
    Responder(uint16_t port, uint32_t response)
        : m_port(port),
          m_response(response)
    {
    }

  private:
    void StartApplication() override
    {
        m_socket = Socket::CreateSocket(GetNode(), UdpSocketFactory::GetTypeId());
        m_socket->Bind(InetSocketAddress(Ipv4Address::GetAny(), m_port));
        m_socket->SetRecvCallback(MakeCallback(&Responder::Read, this));
    }

    void StopApplication() override
    {
        if (m_socket)
            m_socket->Close();
    }

    void Read(Ptr<Socket> socket)
    {
        Address from;
        while (Ptr<Packet> p = socket->RecvFrom(from))
            socket->SendTo(Create<Packet>(m_response), 0, from);
    }

    uint16_t m_port;
    uint32_t m_response;
    Ptr<Socket> m_socket;
};

// Opens `count` flows, one every `interval`, round-robin over the servers.
class FlowClient : public Application
{
  public:
    FlowClient(std::vector<Ipv4Address> servers, uint16_t port, uint32_t count, Time interval,
               uint32_t request, uint64_t* completed)
        : m_servers(std::move(servers)),
          m_port(port),
          m_count(count),
          m_interval(interval),
          m_request(request),
          m_completed(completed)
    {
    }

  private:
    void StartApplication() override
    {
        Simulator::ScheduleNow(&FlowClient::Open, this);
    }

    void StopApplication() override
    {
    }

    void Open()
    {
        Ptr<Socket> s = Socket::CreateSocket(GetNode(), UdpSocketFactory::GetTypeId());
        s->Bind();
        s->Connect(InetSocketAddress(m_servers[m_sent % m_servers.size()], m_port));
        s->SetRecvCallback(MakeCallback(&FlowClient::Read, this));
        s->Send(Create<Packet>(m_request));
        if (++m_sent < m_count)
            Simulator::Schedule(m_interval, &FlowClient::Open, this);
    }

    void Read(Ptr<Socket> socket)
    {
        while (socket->Recv())
            ++*m_completed;
        socket->Close();
    }

    std::vector<Ipv4Address> m_servers;
    uint16_t m_port;
    uint32_t m_count;
    Time m_interval;
    uint32_t m_request;
    uint64_t* m_completed;
    uint32_t m_sent = 0;
};

} // namespace

int
main(int argc, char* argv[])
{
    uint32_t flows = 100000, clients = 64, servers = 16, request = 100, response = 1000;
    std::string interval = "1ms", pcapDir = ".";
    bool pcap = false;
    CommandLine cmd(__FILE__);
    cmd.AddValue("flows", "Flows in total", flows);
    cmd.AddValue("clients", "External clients", clients);
    cmd.AddValue("servers", "Servers behind the forwarding node", servers);
    cmd.AddValue("interval", "Time between two flows of one client", interval);
    cmd.AddValue("request", "Request bytes", request);
    cmd.AddValue("response", "Response bytes", response);
    cmd.AddValue("pcap", "Capture every device", pcap);
    cmd.AddValue("pcapDir", "Where captures go", pcapDir);
    cmd.Parse(argc, argv);

    auto t0 = std::chrono::steady_clock::now();
    NodeContainer router, clientNodes, serverNodes;
    router.Create(1);
    clientNodes.Create(clients);
    serverNodes.Create(servers);
    InternetStackHelper stack;
    stack.Install(router);
    stack.Install(clientNodes);
    stack.Install(serverNodes);

    PointToPointHelper p2p;
    p2p.SetDeviceAttribute("DataRate", StringValue("10Gbps"));
    p2p.SetChannelAttribute("Delay", StringValue("100us"));
    Ipv4AddressHelper addr;
    addr.SetBase("10.0.0.0", "255.255.255.252");
    NetDeviceContainer all;
    std::vector<Ipv4Address> serverAddrs;
    for (uint32_t i = 0; i < clients + servers; i++) {
        bool server = i >= clients;
        Ptr<Node> end = server ? serverNodes.Get(i - clients) : clientNodes.Get(i);
        NetDeviceContainer d = p2p.Install(end, router.Get(0));
        all.Add(d);
        Ipv4InterfaceContainer ifs = addr.Assign(d);
        addr.NewNetwork();
        if (server)
            serverAddrs.push_back(ifs.GetAddress(0));
    }
    Ipv4GlobalRoutingHelper::PopulateRoutingTables();

    const uint16_t port = 8080;
    for (uint32_t i = 0; i < servers; i++) {
        Ptr<Responder> app = CreateObject<Responder>(port, response);
        serverNodes.Get(i)->AddApplication(app);
        app->SetStartTime(Seconds(0));
    }
    uint64_t completed = 0;
    Time gap(interval);
    for (uint32_t i = 0; i < clients; i++) {
        uint32_t count = flows / clients + (i < flows % clients ? 1 : 0);
        if (count == 0)
            continue;
        Ptr<FlowClient> app =
            CreateObject<FlowClient>(serverAddrs, port, count, gap, request, &completed);
        clientNodes.Get(i)->AddApplication(app);
        // Spread the clients' starts over one interval.
        app->SetStartTime(NanoSeconds(gap.GetNanoSeconds() * i / clients));
    }
    if (pcap)
        p2p.EnablePcapAll(pcapDir + "/ns3");

    Simulator::Run();
    double simulated = Simulator::Now().GetSeconds();
    Simulator::Destroy();
    double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    double cpu = (double)std::clock() / CLOCKS_PER_SEC;
    std::printf("ns3 flows %u completed %llu simulated %.3f s wall %.3f s cpu %.3f s flows/s %.0f\n",
                flows, (unsigned long long)completed, simulated, wall, cpu, completed / wall);
    return completed == flows ? 0 : 1;
}
