using Diffuse.Bench;

// Benchmarks whose figures go into the README. Usage: dotnet run --project bench/Diffuse.Bench -c Release -- nfe|throughput|suite|train-memory ...
if (args.Length >= 1 && args[0] == "nfe") return NfeStudy.Run(args.Length > 1 ? args[1] : "bench/results", args.Skip(2).ToArray());
if (args.Length >= 1 && args[0] == "throughput") return UNetThroughput.Run(args[1..]);
if (args.Length >= 1 && args[0] == "guidance") return GuidanceSweep.Run(args[1..]);
if (args.Length >= 1 && args[0] == "captions") return CaptionStudy.Run(args[1..]);
if (args.Length >= 1 && args[0] == "suite") return BenchmarkSuite.Run(args[1..]);
if (args.Length >= 1 && args[0] == "train-memory") return TrainingMemory.Run(args[1..]);
if (args.Length >= 1 && args[0] == "train-precision") return InterleavedBench.TrainPrecision(args[1..]);
if (args.Length >= 1 && args[0] == "layout") return InterleavedBench.Layout(args[1..]);
if (args.Length >= 1 && args[0] == "conv-routes") return InterleavedBench.ConvRoutes(args[1..]);
if (args.Length >= 2 && args[0] == "route-samples") return InterleavedBench.RouteSamples(args[1..]);
if (args.Length >= 2 && args[0] == "sample-memory") return InterleavedBench.SampleMemory(args[1..]);
if (args.Length >= 1 && args[0] == "seed-cost") return InterleavedBench.SeedCost(args[1..]);
Console.Error.WriteLine("usage: Diffuse.Bench nfe [out-dir [sampler ...]]    (the exact-score NFE study of every sampler, or of those named)");
Console.Error.WriteLine("       Diffuse.Bench throughput [preset] [train-batch] [sample-batch] [ddim-steps]   (U-Net images/s)");
Console.Error.WriteLine("       Diffuse.Bench guidance MODEL-DIR [n] [sampler] [steps] [out-dir] [W ...]   (classifier-free guidance sweep: accuracy, FCD, entropy)");
Console.Error.WriteLine("       Diffuse.Bench suite OUT [--threads N] [--repeats N] [--presets tiny,small] [--batches 64] [--precisions fp32,bf16] [--train-steps N] [--sample-steps N] [--configs-only]   (peaks, U-Net GFLOP/s, images/s, overhead, memory; markdown + JSON)");
Console.Error.WriteLine("       Diffuse.Bench captions write OUT | score MODEL [n] [W] [steps]   (MNIST with digit-and-stroke captions; digit and stroke agreement)");
Console.Error.WriteLine("       Diffuse.Bench train-memory [steps] [batch]          (resident memory after 200 and after all training steps)");
Console.Error.WriteLine("       Diffuse.Bench train-precision [presets] [batch] [steps]   (training images/s, fp32 against bf16, alternating steps)");
Console.Error.WriteLine("       Diffuse.Bench conv-routes [presets] [batch] [steps]       (training images/s and sampling forward ms on each convolution route, taking turns)");
Console.Error.WriteLine("       Diffuse.Bench route-samples MODEL [n] [steps] [seed]      (a model's samples on each convolution route against oneDNN off, grey levels)");
Console.Error.WriteLine("       Diffuse.Bench layout [presets] [batch] [repeats]          (U-Net forward, NCHW against channels-last, alternating)");
Console.Error.WriteLine("       Diffuse.Bench sample-memory N STEPS [fp32|bf16] [preset]  (resident memory of DDPM sampling N images)");
Console.Error.WriteLine("       Diffuse.Bench seed-cost [batch] [steps] [repeats] [samplers] [points]  (sampling with one generator per sample against one shared: time)");
return 2;
