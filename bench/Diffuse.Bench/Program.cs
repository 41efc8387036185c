using Diffuse.Bench;

// Benchmarks whose figures go into the README. Usage: dotnet run --project bench/Diffuse.Bench -c Release -- nfe [out-dir]
if (args.Length >= 1 && args[0] == "nfe") return NfeStudy.Run(args.Length > 1 ? args[1] : "bench/results");
Console.Error.WriteLine("usage: Diffuse.Bench nfe [out-dir]   (the exact-score NFE study of every sampler)");
return 2;
