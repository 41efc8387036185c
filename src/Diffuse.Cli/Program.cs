Console.WriteLine(Diffuse.TorchInfo.Describe());
