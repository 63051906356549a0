import { IsInt, IsNotEmpty, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

export class HelloRequest {
  @IsString()
  @IsNotEmpty()
  @MaxLength(64)
  name!: string;

  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(150)
  age?: number;
}

export class HelloReply {
  @IsString()
  greeting!: string;
}

export class GreetedEvent {
  @IsString()
  @IsNotEmpty()
  name!: string;

  @IsInt()
  at!: number;
}
